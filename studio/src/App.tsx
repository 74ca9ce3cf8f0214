import { lazy, Suspense, useMemo, useState } from 'react';
import { Api, tenantFromHost, type Credential } from './api/client';
import { claimsOf, loadCredential, saveCredential, SessionContext, type Session } from './session/session';
import { SignIn } from './session/SignIn';
import { EntityList } from './entities/EntityList';
import { EntityEditor } from './editor/EntityEditor';
import { href, useRoute, type Route } from './ui/route';

// The diagram (React Flow and dagre) and the bundle screen load on first
// visit, so the first screen's JavaScript stays small.
const Diagram = lazy(() => import('./diagram/Diagram'));
const BundleScreen = lazy(() => import('./bundle/BundleScreen'));
const RecordsScreen = lazy(() => import('./records/RecordsScreen'));
const Playground = lazy(() => import('./playground/Playground'));
const ApiDocs = lazy(() => import('./apidocs/ApiDocs'));
const WebhooksScreen = lazy(() => import('./webhooks/WebhooksScreen'));
const LiveScreen = lazy(() => import('./live/LiveScreen'));
const ModulesScreen = lazy(() => import('./modules/ModulesScreen'));

export function App() {
  const tenant = tenantFromHost(window.location.hostname);
  const [credential, setCredential] = useState<Credential | null>(() => loadCredential());
  const [refused, setRefused] = useState<string | null>(null);
  const session = useMemo<Session | null>(() => {
    if (!tenant || !credential) return null;
    const claims = claimsOf(credential);
    const who = credential.kind === 'apikey'
      ? `API key ${credential.secret.slice(0, 16)}…`
      : `${String(claims?.role ?? 'token')}${claims?.sub ? ` (${String(claims.sub)})` : ''}`;
    const api = new Api(credential, (e) => {
      saveCredential(null);
      setCredential(null);
      setRefused(`Signed out: ${e.message}. Unsaved edits are kept.`);
    });
    return { tenant, api, who };
  }, [tenant, credential]);
  const route = useRoute();

  if (!tenant) {
    return (
      <main className="signin" id="main">
        <h1>Cot Studio</h1>
        <p>
          Open the studio at your tenant's address: <code>&lt;tenant&gt;.{window.location.host}</code>, for
          example <code>acme.{window.location.host}</code>.
        </p>
      </main>
    );
  }
  if (!session) {
    return (
      <SignIn
        tenant={tenant}
        notice={refused}
        onSignedIn={(c) => {
          saveCredential(c);
          setRefused(null);
          setCredential(c);
        }}
      />
    );
  }
  const signOut = () => {
    saveCredential(null);
    setCredential(null);
  };
  return (
    <SessionContext.Provider value={session}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Cot Studio</span>
        <span className="tenant" aria-label="Tenant">
          {tenant}
        </span>
        <nav aria-label="Screens">
          <NavLink route={route} to={{ screen: 'entities' }} label="Entities" />
          <NavLink route={route} to={{ screen: 'diagram' }} label="Relationships" />
          <NavLink route={route} to={{ screen: 'bundle' }} label="Import / export" />
          <NavLink route={route} to={{ screen: 'playground' }} label="API playground" />
          <NavLink route={route} to={{ screen: 'docs' }} label="API docs" />
          <NavLink route={route} to={{ screen: 'modules' }} label="Modules" />
          <NavLink route={route} to={{ screen: 'webhooks' }} label="Webhooks" />
          <NavLink route={route} to={{ screen: 'live' }} label="Live" />
        </nav>
        <span className="who">{session.who}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Screen route={route} />
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case 'entities':
      return <EntityList />;
    case 'entity':
      return <EntityEditor key={route.name} name={route.name} />;
    case 'new':
      return <EntityEditor key="(new)" name={null} />;
    case 'diagram':
      return <Diagram />;
    case 'bundle':
      return <BundleScreen />;
    case 'records':
      return <RecordsScreen key={route.name} name={route.name} open={route.id ?? null} />;
    case 'playground':
      return <Playground />;
    case 'docs':
      return <ApiDocs name={route.name ?? null} />;
    case 'webhooks':
      return <WebhooksScreen />;
    case 'live':
      return <LiveScreen />;
    case 'modules':
      return <ModulesScreen />;
  }
}

function NavLink({ route, to, label }: { route: Route; to: Route; label: string }) {
  const current =
    route.screen === to.screen || (to.screen === 'entities' && (route.screen === 'entity' || route.screen === 'new' || route.screen === 'records'));
  return (
    <a href={href(to)} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
}
