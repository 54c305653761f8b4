import * as React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { matches, SearchableList } from '../components/SearchableList';

type Item = { id: number; name: string };
const items: Item[] = [
  { id: 1, name: 'credit scoring' },
  { id: 2, name: 'churn' },
  { id: 3, name: 'credit limits' }
];

function renderList(props: Partial<React.ComponentProps<typeof SearchableList<Item>>> = {}) {
  return render(
    <SearchableList<Item>
      testId="things"
      items={items}
      getKey={i => i.id}
      getText={i => i.name}
      renderItem={i => <span>{i.name}</span>}
      placeholder="Search things"
      emptyText="Nothing yet"
      {...props}
    />
  );
}

describe('SearchableList', () => {
  it('matches every word, case-insensitively', () => {
    expect(matches('Credit Scoring v2', 'credit V2')).toBe(true);
    expect(matches('Credit Scoring', 'credit churn')).toBe(false);
    expect(matches('anything', '  ')).toBe(true);
  });

  it('filters as you type and counts', () => {
    renderList();
    expect(screen.getAllByTestId('things-item')).toHaveLength(3);
    fireEvent.change(screen.getByTestId('things-search'), { target: { value: 'credit' } });
    expect(screen.getAllByTestId('things-item').map(li => li.textContent)).toEqual(['credit scoring', 'credit limits']);
    expect(screen.getByText('2 of 3')).toBeInTheDocument();
    fireEvent.change(screen.getByTestId('things-search'), { target: { value: 'zzz' } });
    expect(screen.getByTestId('empty')).toHaveTextContent('Nothing matches “zzz”.');
  });

  it('says when the service holds more than it shows', () => {
    renderList({ total: 250 });
    expect(screen.getByText('latest 3 of 250')).toBeInTheDocument();
  });

  it('has loading, empty and error states', () => {
    const onRetry = jest.fn();
    const { rerender } = renderList({ items: null });
    expect(screen.getByTestId('loading')).toBeInTheDocument();
    rerender(
      <SearchableList<Item>
        testId="things"
        items={[]}
        getKey={i => i.id}
        getText={i => i.name}
        renderItem={i => i.name}
        placeholder="Search"
        emptyText="Nothing yet"
      />
    );
    expect(screen.getByTestId('empty')).toHaveTextContent('Nothing yet');
    rerender(
      <SearchableList<Item>
        testId="things"
        items={null}
        error="Service unavailable"
        onRetry={onRetry}
        getKey={i => i.id}
        getText={i => i.name}
        renderItem={i => i.name}
        placeholder="Search"
        emptyText="Nothing yet"
      />
    );
    expect(screen.getByTestId('error')).toHaveTextContent('Service unavailable');
    fireEvent.click(screen.getByText('Retry'));
    expect(onRetry).toHaveBeenCalled();
  });

  it('selects an item by click or Enter', () => {
    const onSelect = jest.fn();
    renderList({ onSelect });
    fireEvent.click(screen.getByText('churn'));
    fireEvent.keyDown(screen.getAllByTestId('things-item')[2], { key: 'Enter' });
    expect(onSelect.mock.calls.map(call => call[0].id)).toEqual([2, 3]);
  });
});
