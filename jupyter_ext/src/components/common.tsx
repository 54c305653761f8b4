/** Small pieces shared by the sidebar's components: badges, states, collapsible sections. */
import * as React from 'react';
import type { Stage } from '../types';

const STAGE_LABELS: Record<Stage, string> = {
  none: 'no stage',
  staging: 'staging',
  production: 'production',
  archived: 'archived'
};

export function StageBadge(props: { stage: Stage }): JSX.Element {
  return (
    <span className={`jp-Governance-badge jp-Governance-stage-${props.stage}`} data-testid="stage-badge">
      {STAGE_LABELS[props.stage] ?? props.stage}
    </span>
  );
}

export type Tone = 'good' | 'bad' | 'warn' | 'neutral';

export function Badge(props: { tone: Tone; children: React.ReactNode; testId?: string; title?: string }): JSX.Element {
  return (
    <span className={`jp-Governance-badge jp-Governance-tone-${props.tone}`} data-testid={props.testId} title={props.title}>
      {props.children}
    </span>
  );
}

export function Loading(props: { children?: React.ReactNode }): JSX.Element {
  return (
    <div className="jp-Governance-loading" role="status" data-testid="loading">
      <span className="jp-Governance-spinner" aria-hidden="true" />
      {props.children ?? 'Loading…'}
    </div>
  );
}

export function ErrorBox(props: { children: React.ReactNode; onRetry?: () => void }): JSX.Element {
  return (
    <div className="jp-Governance-error" role="alert" data-testid="error">
      <span className="jp-Governance-error-text">{props.children}</span>
      {props.onRetry && (
        <button className="jp-Governance-link" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty(props: { children: React.ReactNode; testId?: string }): JSX.Element {
  return (
    <div className="jp-Governance-empty" data-testid={props.testId ?? 'empty'}>
      <div>{props.children}</div>
    </div>
  );
}

export function Section(props: {
  title: string;
  subtitle?: React.ReactNode;
  actions?: React.ReactNode;
  testId: string;
  initiallyOpen?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(props.initiallyOpen ?? true);
  return (
    <section className="jp-Governance-section" data-testid={props.testId}>
      <header className="jp-Governance-section-header">
        <button
          className="jp-Governance-section-toggle"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
          title={open ? 'Collapse' : 'Expand'}
        >
          <CaretIcon open={open} />
          <span className="jp-Governance-section-title">{props.title}</span>
        </button>
        {props.actions && <div className="jp-Governance-section-actions">{props.actions}</div>}
      </header>
      {open && (
        <div className="jp-Governance-section-body">
          {props.subtitle && <div className="jp-Governance-section-subtitle">{props.subtitle}</div>}
          {props.children}
        </div>
      )}
    </section>
  );
}

export function shortCommit(commit: string | null | undefined): string {
  return commit ? commit.slice(0, 8) : '';
}

export function basename(path: string | null | undefined): string {
  if (!path) {
    return '';
  }
  const parts = path.split('/');
  return parts[parts.length - 1];
}

/** "3 min ago", "yesterday", or the date, for a timestamp. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  if (isNaN(then.getTime())) {
    return '';
  }
  const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
  if (seconds < 45) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  if (days === 1) {
    return 'yesterday';
  }
  if (days < 30) {
    return `${days} days ago`;
  }
  return then.toISOString().slice(0, 10);
}

/** Metric values as compact text: 0.9371 -> "0.937", a step series -> its last value. */
export function formatMetric(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length ? `${formatMetric(value[value.length - 1])} (last of ${value.length})` : '—';
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      return String(value);
    }
    const text = Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(3);
    return text.includes('e') ? text : text.replace(/\.?0+$/, '');
  }
  return String(value);
}

/** Small inline icons (stroke follows the text colour, so they suit light and dark themes). */
function Icon(props: { children: React.ReactNode; className?: string; size?: number }): JSX.Element {
  const size = props.size ?? 16;
  return (
    <svg
      className={`jp-Governance-svg ${props.className ?? ''}`}
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      {props.children}
    </svg>
  );
}

export const RefreshIcon = () => (
  <Icon>
    <path d="M13.5 8a5.5 5.5 0 1 1-1.6-3.9" />
    <path d="M13.5 2.5v3h-3" />
  </Icon>
);

export const CaretIcon = (props: { open: boolean }) => (
  <Icon className={`jp-Governance-caret${props.open ? ' jp-mod-open' : ''}`} size={12}>
    <path d="M6 4l4 4-4 4" />
  </Icon>
);

export const ChevronIcon = () => (
  <Icon className="jp-Governance-chevron" size={12}>
    <path d="M6 4l4 4-4 4" />
  </Icon>
);

export const BackIcon = () => (
  <Icon size={12}>
    <path d="M10 4L6 8l4 4" />
  </Icon>
);

export const NotebookIcon = () => (
  <Icon className="jp-Governance-notebook-icon" size={14}>
    <rect x="3" y="2" width="10" height="12" rx="1.5" />
    <path d="M6 5.5h4M6 8h4M6 10.5h2.5" />
  </Icon>
);
