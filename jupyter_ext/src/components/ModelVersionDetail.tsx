/**
 * One model version: its stage and metrics, its lineage (what it was made from and where it runs),
 * the latest fairness audit and drift report, whether the promotion gate would let it through, and its
 * model card (editable until production: what the gate's model_card check reads).
 */
import * as React from 'react';
import type { GovernanceClient } from '../api';
import { useAsync } from '../hooks';
import type { DriftReport, FairnessAudit, Gate, Lineage, LineageNode, ModelVersion } from '../types';
import { ModelCardForm } from './ModelCardForm';
import { BackIcon, Badge, Empty, ErrorBox, formatMetric, Loading, relativeTime, shortCommit, StageBadge } from './common';

export interface ModelVersionDetailProps {
  id: number;
  client: GovernanceClient;
  onBack: () => void;
}

interface Detail {
  version: ModelVersion;
  lineage: Lineage | null;
  fairness: FairnessAudit | null;
  drift: DriftReport | null;
  gate: Gate | null;
  partialErrors: string[];
}

async function optional<T>(promise: Promise<T>, what: string, errors: string[]): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

export async function loadDetail(client: GovernanceClient, id: number): Promise<Detail> {
  const partialErrors: string[] = [];
  const [version, lineage, fairness, drift, gate] = await Promise.all([
    client.modelVersion(id),
    optional(client.lineage(id), 'lineage', partialErrors),
    optional(client.latestFairnessAudit(id), 'fairness audits', partialErrors),
    optional(client.latestDriftReport(id), 'drift reports', partialErrors),
    optional(client.gate(id), 'promotion gate', partialErrors)
  ]);
  return { version, lineage, fairness, drift, gate, partialErrors };
}

const KIND_LABELS: Record<string, string> = {
  data_version: 'Data',
  run: 'Run',
  model_version: 'Model',
  deployment: 'Deployment',
  decision: 'Decisions'
};

function nodeText(node: LineageNode): string {
  const attrs = (node.attrs ?? {}) as Record<string, unknown>;
  switch (node.kind) {
    case 'data_version':
      return `${attrs.dataset_name ?? node.label} @ ${attrs.version ?? node.pk}`;
    case 'run':
      return `${attrs.name ?? node.label} #${node.pk}`;
    case 'model_version':
      return `${attrs.model_name ?? node.label} v${attrs.version ?? node.pk}`;
    default:
      return node.label;
  }
}

function nodeMeta(node: LineageNode): string {
  const attrs = (node.attrs ?? {}) as Record<string, unknown>;
  switch (node.kind) {
    case 'data_version':
      return attrs.row_count !== undefined ? `${Number(attrs.row_count).toLocaleString('en')} rows` : '';
    case 'run':
      return attrs.git_commit ? `commit ${shortCommit(String(attrs.git_commit))}` : '';
    case 'deployment':
      return attrs.ended_at ? 'ended' : 'live';
    default:
      return '';
  }
}

/** The lineage as a compact list: upstream nodes, this version, then downstream ones. */
export function LineageList(props: { lineage: Lineage }): JSX.Element {
  const { lineage } = props;
  const decisions = lineage.nodes.filter(n => n.kind === 'decision');
  const nodes = lineage.nodes.filter(n => n.kind !== 'decision');
  const byId = new Map(lineage.nodes.map(n => [n.id, n]));
  const incoming = (id: string) => lineage.edges.filter(e => e.target === id && byId.get(e.source)?.kind !== 'decision');
  if (nodes.length <= 1 && decisions.length === 0) {
    return <Empty>No lineage recorded beyond this version.</Empty>;
  }
  return (
    <ol className="jp-Governance-lineage" data-testid="lineage">
      {nodes.map(node => {
        const from = incoming(node.id);
        const meta = nodeMeta(node);
        return (
          <li
            key={node.id}
            className={`jp-Governance-lineage-node jp-Governance-kind-${node.kind}${node.id === lineage.root ? ' jp-mod-root' : ''}`}
            data-testid="lineage-node"
          >
            <span className="jp-Governance-lineage-kind">{KIND_LABELS[node.kind] ?? node.kind}</span>
            <span className="jp-Governance-lineage-label">
              {nodeText(node)}
              {meta && <span className="jp-Governance-muted"> · {meta}</span>}
            </span>
            {from.length > 0 && (
              <span className="jp-Governance-lineage-from">
                {from
                  .map(edge => {
                    const source = byId.get(edge.source);
                    const role = (edge.attrs as Record<string, unknown> | undefined)?.role;
                    return `${edge.relation.replace(/_/g, ' ')}${role ? ` (${role})` : ''} ← ${source ? nodeText(source) : edge.source}`;
                  })
                  .join('; ')}
              </span>
            )}
          </li>
        );
      })}
      {decisions.length > 0 && (
        <li className="jp-Governance-lineage-node jp-Governance-kind-decision" data-testid="lineage-node">
          <span className="jp-Governance-lineage-kind">Decisions</span>
          <span className="jp-Governance-lineage-label">
            {decisions.length >= 100 ? '100+' : decisions.length} logged
          </span>
        </li>
      )}
    </ol>
  );
}

function FairnessStatus(props: { audit: FairnessAudit | null }): JSX.Element {
  const { audit } = props;
  if (!audit) {
    return (
      <div className="jp-Governance-check" data-testid="fairness-status" data-state="none">
        <Badge tone="neutral">not audited</Badge>
        <span className="jp-Governance-muted">No fairness audit yet (a compliance officer runs one on logged decisions).</span>
      </div>
    );
  }
  const failed = Array.isArray(audit.failed_checks) ? (audit.failed_checks as { message?: string; check?: string }[]) : [];
  const features = Array.isArray(audit.sensitive_features) ? (audit.sensitive_features as string[]).join(' × ') : '';
  return (
    <div className="jp-Governance-check" data-testid="fairness-status" data-state={audit.passed ? 'passed' : 'failed'}>
      <Badge tone={audit.passed ? 'good' : 'bad'}>{audit.passed ? 'passed' : 'failed'}</Badge>
      <span>
        by {features || 'sensitive attributes'} over {audit.row_count.toLocaleString('en')} decisions ·{' '}
        {relativeTime(audit.created_at)}
        {failed.length > 0 && (
          <ul className="jp-Governance-check-list">
            {failed.map((check, i) => (
              <li key={i}>{check.message ?? check.check}</li>
            ))}
          </ul>
        )}
      </span>
    </div>
  );
}

function DriftStatus(props: { report: DriftReport | null }): JSX.Element {
  const { report } = props;
  if (!report) {
    return (
      <div className="jp-Governance-check" data-testid="drift-status" data-state="none">
        <Badge tone="neutral">no report</Badge>
        <span className="jp-Governance-muted">No drift report yet.</span>
      </div>
    );
  }
  const drifted = Array.isArray(report.drifted_features) ? (report.drifted_features as string[]) : [];
  return (
    <div className="jp-Governance-check" data-testid="drift-status" data-state={report.drifted ? 'drifted' : 'stable'}>
      <Badge tone={report.drifted ? 'bad' : 'good'}>{report.drifted ? 'drifted' : 'no drift'}</Badge>
      <span>
        {report.drifted && drifted.length > 0 ? `${drifted.join(', ')} · ` : ''}
        {report.row_count.toLocaleString('en')} decisions · {relativeTime(report.created_at)}
      </span>
    </div>
  );
}

function GateStatus(props: { gate: Gate | null }): JSX.Element | null {
  const { gate } = props;
  if (!gate) {
    return null;
  }
  const failed = gate.checks.filter(check => !check.passed);
  return (
    <div className="jp-Governance-check" data-testid="gate-status" data-state={gate.allowed ? 'allowed' : 'blocked'}>
      <Badge tone={gate.allowed ? 'good' : 'warn'}>{gate.allowed ? 'ready' : 'blocked'}</Badge>
      <span>
        {gate.allowed
          ? `All ${gate.checks.length} checks pass for ${gate.to_stage}.`
          : `${failed.length} of ${gate.checks.length} checks fail for ${gate.to_stage}:`}
        {failed.length > 0 && (
          <ul className="jp-Governance-check-list">
            {failed.map(check => (
              <li key={check.check}>{check.message}</li>
            ))}
          </ul>
        )}
      </span>
    </div>
  );
}

export function ModelVersionDetail(props: ModelVersionDetailProps): JSX.Element {
  const { client, id } = props;
  const detail = useAsync(() => loadDetail(client, id), [client, id]);
  const back = (
    <button className="jp-Governance-back" onClick={props.onBack} data-testid="detail-back">
      <BackIcon />
      All models
    </button>
  );
  if (detail.status === 'loading') {
    return (
      <div className="jp-Governance-detail" data-testid="model-version-detail">
        {back}
        <Loading />
      </div>
    );
  }
  if (detail.status === 'error') {
    return (
      <div className="jp-Governance-detail" data-testid="model-version-detail">
        {back}
        <ErrorBox onRetry={detail.reload}>Could not load model version #{id}: {detail.error}</ErrorBox>
      </div>
    );
  }
  const { version, lineage, fairness, drift, gate, partialErrors } = detail.value;
  const root = lineage?.nodes.find(n => n.id === lineage.root);
  const name = String((root?.attrs as Record<string, unknown> | undefined)?.model_name ?? `model ${version.model}`);
  const metrics = (version.metrics && typeof version.metrics === 'object' ? version.metrics : {}) as Record<string, unknown>;
  return (
    <div className="jp-Governance-detail" data-testid="model-version-detail">
      {back}
      <div className="jp-Governance-detail-header">
        <h3 className="jp-Governance-detail-title">
          {name} <span className="jp-Governance-version">v{version.version}</span>
        </h3>
        <StageBadge stage={version.stage} />
      </div>
      <div className="jp-Governance-item-meta">
        {version.framework || 'unknown framework'} · run #{version.run} · {relativeTime(version.created_at)} by{' '}
        {version.created_by}
      </div>
      {Object.keys(metrics).length > 0 && (
        <dl className="jp-Governance-metrics" data-testid="metrics">
          {Object.entries(metrics).map(([key, value]) => (
            <div key={key} className="jp-Governance-metric">
              <dt>{key}</dt>
              <dd>{formatMetric(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      <h4 className="jp-Governance-subheading">Checks</h4>
      <div className="jp-Governance-checks">
        <div className="jp-Governance-check-name">Fairness</div>
        <FairnessStatus audit={fairness} />
        <div className="jp-Governance-check-name">Drift</div>
        <DriftStatus report={drift} />
        {gate && (
          <>
            <div className="jp-Governance-check-name">Promotion</div>
            <GateStatus gate={gate} />
          </>
        )}
      </div>
      <h4 className="jp-Governance-subheading">Model card</h4>
      <ModelCardForm key={version.id} version={version} client={client} onSaved={detail.reload} />
      <h4 className="jp-Governance-subheading">Lineage</h4>
      {lineage ? <LineageList lineage={lineage} /> : <Empty>Lineage unavailable.</Empty>}
      {partialErrors.length > 0 && <ErrorBox>Some details could not be loaded: {partialErrors.join('; ')}</ErrorBox>}
    </div>
  );
}
