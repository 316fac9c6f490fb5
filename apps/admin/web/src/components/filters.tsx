/** A choice among fixed values; `any` names the empty choice (no filter) when there is one. */
export function Choice({
  label,
  value,
  options,
  any,
  onChange,
}: {
  label?: string;
  value: string;
  options: string[];
  any?: string;
  onChange: (value: string) => void;
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      {any && <option value="">{any}</option>}
      {options.map((o) => (
        <option key={o}>{o}</option>
      ))}
    </select>
  );
}

/** A free-text filter, applied on Enter. */
export function TextFilter({
  label,
  placeholder,
  value,
  onEnter,
}: {
  label: string;
  placeholder: string;
  value: string;
  onEnter: (value: string) => void;
}) {
  return (
    <input
      aria-label={label}
      placeholder={placeholder}
      defaultValue={value}
      onKeyDown={(e) => e.key === 'Enter' && onEnter(e.currentTarget.value)}
    />
  );
}

/** A time filter in the browser's time zone, given and taken as an instant (RFC 3339, UTC). */
export function TimeFilter({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (instant: string) => void;
}) {
  const local = (iso: string) => {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  };
  return (
    <label className="row">
      {label}
      <input
        type="datetime-local"
        aria-label={label}
        defaultValue={value ? local(value) : ''}
        onChange={(e) => onChange(e.currentTarget.value ? new Date(e.currentTarget.value).toISOString() : '')}
      />
    </label>
  );
}
