import { useState, type FormEvent } from 'react';
import { ApiProblem, api, session, type Tokens } from '../api';

/** Signing in with email and password; the tokens go to sessionStorage. */
export function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    try {
      session.set(
        await api<Tokens>('POST', '/auth/login', {
          email: form.get('email'),
          password: form.get('password'),
        }),
      );
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiProblem ? err.message : 'Could not sign in.');
    }
  };
  return (
    <form className="login" onSubmit={submit}>
      <h1>Tally operations</h1>
      <label>
        Email <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Sign in</button>
    </form>
  );
}
