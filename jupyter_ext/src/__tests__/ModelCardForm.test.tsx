import * as React from 'react';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { ServiceError } from '../api';
import { ModelCardForm, changedCard } from '../components/ModelCardForm';
import { ModelVersionDetail } from '../components/ModelVersionDetail';
import { fakeClient, version } from './fixtures';

describe('changedCard', () => {
  it('keeps only the fields that differ', () => {
    const v = version(3, { intended_use: 'screening', limitations: '', risk_tier: 'limited' });
    expect(changedCard(v, { intended_use: 'screening', limitations: 'adults', risk_tier: 'high' })).toEqual({
      limitations: 'adults',
      risk_tier: 'high'
    });
    expect(changedCard(v, { intended_use: 'screening', limitations: '', risk_tier: 'limited' })).toEqual({});
  });
});

describe('ModelCardForm', () => {
  it('sends the changed fields and reports the save', async () => {
    const client = fakeClient();
    const onSaved = jest.fn();
    render(<ModelCardForm version={version(3, { stage: 'staging' })} client={client} onSaved={onSaved} />);
    const save = screen.getByTestId('card-save');
    expect(save).toBeDisabled(); // nothing changed yet
    fireEvent.change(screen.getByTestId('card-intended-use'), { target: { value: 'loan pre-screening' } });
    fireEvent.change(screen.getByTestId('card-risk-tier'), { target: { value: 'high' } });
    expect(save).not.toBeDisabled();
    fireEvent.click(save);
    await screen.findByTestId('card-saved');
    expect(client.updateCard).toHaveBeenCalledWith(3, { intended_use: 'loan pre-screening', risk_tier: 'high' });
    expect(onSaved).toHaveBeenCalledWith(expect.objectContaining({ intended_use: 'loan pre-screening' }));
  });

  it('shows the service refusal and its field messages', async () => {
    const client = fakeClient({
      updateCard: jest.fn(async () => {
        throw new ServiceError('frozen while incident 4 (skew) is open', 409, 'frozen', {
          risk_tier: ['the risk tier is the model’s']
        });
      })
    });
    const onSaved = jest.fn();
    render(<ModelCardForm version={version(3)} client={client} onSaved={onSaved} />);
    fireEvent.change(screen.getByTestId('card-limitations'), { target: { value: 'adults' } });
    fireEvent.click(screen.getByTestId('card-save'));
    expect(await screen.findByTestId('card-error')).toHaveTextContent('frozen while incident 4 (skew) is open');
    expect(screen.getByTestId('card-error-risk_tier')).toHaveTextContent('the risk tier is the model’s');
    expect(onSaved).not.toHaveBeenCalled();
    expect(screen.queryByTestId('card-saved')).toBeNull();
  });

  it('is frozen in production', () => {
    const client = fakeClient();
    render(
      <ModelCardForm
        version={version(1, { stage: 'production', intended_use: 'release advice', risk_tier: 'high' })}
        client={client}
        onSaved={jest.fn()}
      />
    );
    expect(screen.queryByTestId('card-form')).toBeNull();
    const frozen = screen.getByTestId('card-frozen');
    expect(frozen).toHaveTextContent('release advice');
    expect(frozen).toHaveTextContent('frozen');
  });
});

describe('ModelVersionDetail with its card', () => {
  it('saves the card and reloads the gate', async () => {
    const client = fakeClient();
    render(<ModelVersionDetail id={2} client={client} onBack={jest.fn()} />);
    fireEvent.change(await screen.findByTestId('card-intended-use'), { target: { value: 'screening' } });
    fireEvent.click(screen.getByTestId('card-save'));
    await waitFor(() => expect(client.gate).toHaveBeenCalledTimes(2));
    expect(client.updateCard).toHaveBeenCalledWith(2, { intended_use: 'screening' });
  });
});
