/**
 * A model version's card: intended use, limitations and the model's risk tier, which the promotion gate
 * reads. Editable until the version has been in production (the service refuses after that, and while an
 * open incident names the version); only the fields that changed are sent.
 */
import * as React from 'react';
import { ServiceError, errorMessage, type GovernanceClient } from '../api';
import type { ModelCardUpdate, ModelVersion, RiskTier } from '../types';

export const RISK_TIERS: RiskTier[] = ['minimal', 'limited', 'high'];

export interface ModelCardFormProps {
  version: ModelVersion;
  client: GovernanceClient;
  /** Called with the version as the service answered it after a save. */
  onSaved: (version: ModelVersion) => void;
}

/** The fields of `card` that differ from the version's current card. */
export function changedCard(version: ModelVersion, card: Required<ModelCardUpdate>): ModelCardUpdate {
  const changed: ModelCardUpdate = {};
  if (card.intended_use !== version.intended_use) {
    changed.intended_use = card.intended_use;
  }
  if (card.limitations !== version.limitations) {
    changed.limitations = card.limitations;
  }
  if (card.risk_tier !== version.risk_tier) {
    changed.risk_tier = card.risk_tier;
  }
  return changed;
}

export function ModelCardForm(props: ModelCardFormProps): JSX.Element {
  const { version, client } = props;
  const [intendedUse, setIntendedUse] = React.useState(version.intended_use ?? '');
  const [limitations, setLimitations] = React.useState(version.limitations ?? '');
  const [riskTier, setRiskTier] = React.useState<RiskTier>((version.risk_tier as RiskTier) || 'limited');
  const [saving, setSaving] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = React.useState<Record<string, string[]>>({});
  const [saved, setSaved] = React.useState(false);

  if (version.stage === 'production') {
    return (
      <div className="jp-Governance-card" data-testid="card-frozen">
        <CardSummary version={version} />
        <p className="jp-Governance-muted">In production: its card is frozen (register a new version to change it).</p>
      </div>
    );
  }

  const changed = changedCard(version, { intended_use: intendedUse, limitations, risk_tier: riskTier });
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (Object.keys(changed).length === 0) {
      return;
    }
    setSaving(true);
    setError(null);
    setFieldErrors({});
    setSaved(false);
    try {
      const answered = await client.updateCard(version.id, changed);
      setSaved(true);
      props.onSaved(answered);
    } catch (reason) {
      setError(errorMessage(reason));
      if (reason instanceof ServiceError) {
        setFieldErrors(reason.fields);
      }
    } finally {
      setSaving(false);
    }
  };
  const fieldError = (name: string) =>
    fieldErrors[name]?.length ? (
      <div className="jp-Governance-field-error" data-testid={`card-error-${name}`}>
        {fieldErrors[name].join(' ')}
      </div>
    ) : null;
  return (
    <form className="jp-Governance-form jp-Governance-card" onSubmit={submit} data-testid="card-form" noValidate>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">Intended use</span>
        <textarea
          className="jp-Governance-input"
          rows={2}
          value={intendedUse}
          onChange={e => setIntendedUse(e.target.value)}
          data-testid="card-intended-use"
        />
        {fieldError('intended_use')}
      </label>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">Limitations</span>
        <textarea
          className="jp-Governance-input"
          rows={2}
          value={limitations}
          onChange={e => setLimitations(e.target.value)}
          data-testid="card-limitations"
        />
        {fieldError('limitations')}
      </label>
      <label className="jp-Governance-field">
        <span className="jp-Governance-label">
          Risk tier <span className="jp-Governance-muted">(the model’s: every version’s)</span>
        </span>
        <select
          className="jp-Governance-input"
          value={riskTier}
          onChange={e => setRiskTier(e.target.value as RiskTier)}
          data-testid="card-risk-tier"
        >
          {RISK_TIERS.map(tier => (
            <option key={tier} value={tier}>
              {tier}
            </option>
          ))}
        </select>
        {fieldError('risk_tier')}
      </label>
      {error && (
        <div className="jp-Governance-error" role="alert" data-testid="card-error">
          {error}
        </div>
      )}
      {saved && !error && (
        <div className="jp-Governance-muted" data-testid="card-saved">
          Model card saved (audited).
        </div>
      )}
      <button
        type="submit"
        className="jp-Governance-button jp-mod-accept"
        disabled={saving || Object.keys(changed).length === 0}
        data-testid="card-save"
      >
        {saving ? 'Saving…' : 'Save model card'}
      </button>
    </form>
  );
}

function CardSummary(props: { version: ModelVersion }): JSX.Element {
  const { version } = props;
  return (
    <dl className="jp-Governance-card-summary">
      <dt>Intended use</dt>
      <dd>{version.intended_use || '—'}</dd>
      <dt>Limitations</dt>
      <dd>{version.limitations || '—'}</dd>
      <dt>Risk tier</dt>
      <dd>{version.risk_tier}</dd>
    </dl>
  );
}
