/** The side navigation: one link per page, the current one marked, and signing out. */
export function Nav({
  pages,
  current,
  onSignOut,
}: {
  pages: { path: string; label: string }[];
  current: string;
  onSignOut: () => void;
}) {
  return (
    <nav>
      <strong className="brand">Tally</strong>
      {pages.map(({ path, label }) => (
        <a key={path} href={`#${path}`} aria-current={current === path ? 'page' : undefined}>
          {label}
        </a>
      ))}
      <button type="button" className="secondary" onClick={onSignOut}>
        Sign out
      </button>
    </nav>
  );
}
