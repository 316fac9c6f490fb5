import type { ReactNode } from 'react';

/** One figure with its label; a link to where it comes from when `onClick` is given. */
export function Card({ label, value, onClick }: { label: string; value: ReactNode; onClick?: () => void }) {
  return (
    <button type="button" className="card" onClick={onClick} disabled={!onClick}>
      <span className="muted">{label}</span>
      <strong data-testid={`card-${label}`}>{value}</strong>
    </button>
  );
}
