import * as React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { ConnectionStatus } from '../components/ConnectionStatus';
import { status } from './fixtures';

describe('ConnectionStatus', () => {
  it('shows the project, role and key when connected', () => {
    render(<ConnectionStatus status={status} loading={false} error={null} onRetry={jest.fn()} />);
    const box = screen.getByTestId('connection-status');
    expect(box).toHaveAttribute('data-state', 'connected');
    expect(box).toHaveTextContent('Connected to 127.0.0.1:8000');
    expect(box).toHaveTextContent('Acme Bank · data scientist');
    expect(box).toHaveTextContent('key gk_ab12');
  });

  it('explains a missing connection and retries', () => {
    const onRetry = jest.fn();
    render(
      <ConnectionStatus
        status={{ ...status, connected: false, whoami: null, message: 'GOVERNANCE_API_KEY is not set' }}
        loading={false}
        error={null}
        onRetry={onRetry}
      />
    );
    const box = screen.getByTestId('connection-status');
    expect(box).toHaveAttribute('data-state', 'disconnected');
    expect(box).toHaveTextContent('GOVERNANCE_API_KEY is not set');
    fireEvent.click(screen.getByText('retry'));
    expect(onRetry).toHaveBeenCalled();
  });

  it('shows loading and server extension errors', () => {
    const { rerender } = render(<ConnectionStatus status={null} loading={true} error={null} onRetry={jest.fn()} />);
    expect(screen.getByTestId('connection-status')).toHaveTextContent('Connecting');
    rerender(<ConnectionStatus status={null} loading={false} error="404 Not Found" onRetry={jest.fn()} />);
    expect(screen.getByTestId('connection-status')).toHaveAttribute('data-state', 'error');
    expect(screen.getByTestId('connection-status')).toHaveTextContent('404 Not Found');
  });
});
