import { useCallback, useEffect, useState } from 'react';
import { api, session } from './api';
import { Nav } from './components/Nav';
import { Login } from './pages/Login';
import { ROUTES } from './routes';
import { useRoute } from './router';

/** The shell: sign-in until there is a session, then the navigation and the page the hash names. */
export function App() {
  const [signedIn, setSignedIn] = useState(() => session.get() !== null);
  const [page, query, go] = useRoute();
  const signOut = useCallback(() => {
    const t = session.get();
    if (t) void api('POST', '/auth/logout', { refreshToken: t.refreshToken }).catch(() => undefined);
    session.set(null);
    setSignedIn(false);
  }, []);
  useEffect(() => {
    const on = () => setSignedIn(false);
    window.addEventListener('tally:signed-out', on);
    return () => window.removeEventListener('tally:signed-out', on);
  }, []);
  if (!signedIn) return <Login onSignedIn={() => setSignedIn(true)} />;
  const Page = ROUTES.find((r) => r.path === page)?.Page;
  return (
    <div className="shell">
      <Nav pages={ROUTES} current={page} onSignOut={signOut} />
      <main>{Page && <Page query={query} go={go} />}</main>
    </div>
  );
}
