import { useState } from 'preact/hooks';

/** Asked once when the admin listener has `admin.token`: kept for this tab only (sessionStorage), sent as a Bearer header. */
export function TokenForm(props: { wrong: boolean; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <form class="token-form" onSubmit={(e) => {
      e.preventDefault();
      if (token.trim() !== '') props.onToken(token.trim());
    }}>
      <h1>kflog</h1>
      <p>This admin listener has a token (<span class="mono">admin.token</span> in kflog.json).</p>
      {props.wrong && <p class="error-text" role="alert">That token was refused.</p>}
      <label>
        Token
        <input type="password" name="token" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}
