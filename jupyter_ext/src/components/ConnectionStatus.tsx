/** Whether the Jupyter server reaches the governance service, and as whom. */
import * as React from 'react';
import type { GovernanceStatus } from '../types';

export interface ConnectionStatusProps {
  status: GovernanceStatus | null;
  loading: boolean;
  error: string | null;
  onRetry: () => void;
}

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function ConnectionStatus(props: ConnectionStatusProps): JSX.Element {
  const { status, loading, error } = props;
  if (loading && !status) {
    return (
      <div className="jp-Governance-connection" data-testid="connection-status" data-state="loading">
        <span className="jp-Governance-dot jp-mod-pending" aria-hidden="true" />
        <div className="jp-Governance-connection-text">
          <div className="jp-Governance-connection-title">Connecting…</div>
        </div>
      </div>
    );
  }
  if (error || !status) {
    return (
      <div className="jp-Governance-connection" data-testid="connection-status" data-state="error">
        <span className="jp-Governance-dot jp-mod-bad" aria-hidden="true" />
        <div className="jp-Governance-connection-text">
          <div className="jp-Governance-connection-title">Server extension unavailable</div>
          <div className="jp-Governance-connection-detail">{error ?? 'No answer'}</div>
          <div className="jp-Governance-connection-hint">
            Is <code>governance_jupyter</code> enabled on this Jupyter server?{' '}
            <button className="jp-Governance-link" onClick={props.onRetry}>
              Retry
            </button>
          </div>
        </div>
      </div>
    );
  }
  if (!status.connected) {
    return (
      <div className="jp-Governance-connection" data-testid="connection-status" data-state="disconnected">
        <span className="jp-Governance-dot jp-mod-bad" aria-hidden="true" />
        <div className="jp-Governance-connection-text">
          <div className="jp-Governance-connection-title">Not connected</div>
          <div className="jp-Governance-connection-detail">{status.message}</div>
          <div className="jp-Governance-connection-hint">
            Set <code>GOVERNANCE_URL</code> and <code>GOVERNANCE_API_KEY</code> where Jupyter runs, then{' '}
            <button className="jp-Governance-link" onClick={props.onRetry}>
              retry
            </button>
            .
          </div>
        </div>
      </div>
    );
  }
  const whoami = status.whoami;
  const membership = whoami?.memberships.find(m => m.project === status.project);
  return (
    <div className="jp-Governance-connection" data-testid="connection-status" data-state="connected">
      <span className="jp-Governance-dot jp-mod-good" aria-hidden="true" />
      <div className="jp-Governance-connection-text">
        <div className="jp-Governance-connection-title" title={status.service_url}>
          Connected to {host(status.service_url)}
        </div>
        <div className="jp-Governance-connection-detail">
          {membership ? (
            <>
              <strong>{membership.project_name}</strong> · {membership.role.replace(/_/g, ' ')}
            </>
          ) : status.project ? (
            <>
              <strong>{status.project}</strong>
              {status.role && ` · ${status.role.replace(/_/g, ' ')}`}
            </>
          ) : (
            'No project'
          )}
          {whoami && (
            <span className="jp-Governance-muted">
              {' '}
              · {whoami.kind === 'api_key' ? 'key' : 'user'} {whoami.name}
            </span>
          )}
        </div>
      </div>
    </div>
  );
}
