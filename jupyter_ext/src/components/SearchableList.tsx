/** A list with a search box, and its loading, error and empty states. */
import * as React from 'react';
import { Empty, ErrorBox, Loading } from './common';

export interface SearchableListProps<T> {
  /** null while loading */
  items: T[] | null;
  error?: string | null;
  /** records the service holds, when more than `items` were fetched */
  total?: number;
  getKey: (item: T) => string | number;
  /** the text a search matches (case-insensitive, every word) */
  getText: (item: T) => string;
  renderItem: (item: T) => React.ReactNode;
  onSelect?: (item: T) => void;
  placeholder: string;
  emptyText: React.ReactNode;
  testId: string;
  onRetry?: () => void;
}

export function matches(text: string, query: string): boolean {
  const haystack = text.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every(word => haystack.includes(word));
}

export function SearchableList<T>(props: SearchableListProps<T>): JSX.Element {
  const [query, setQuery] = React.useState('');
  const { items, getText } = props;
  const shown = React.useMemo(
    () => (items ?? []).filter(item => matches(getText(item), query)),
    [items, query, getText]
  );

  let body: React.ReactNode;
  if (props.error) {
    body = <ErrorBox onRetry={props.onRetry}>{props.error}</ErrorBox>;
  } else if (items === null) {
    body = <Loading />;
  } else if (items.length === 0) {
    body = <Empty>{props.emptyText}</Empty>;
  } else if (shown.length === 0) {
    body = <Empty>Nothing matches “{query}”.</Empty>;
  } else {
    body = (
      <ul className="jp-Governance-list">
        {shown.map(item => (
          <li
            key={props.getKey(item)}
            className={`jp-Governance-list-item${props.onSelect ? ' jp-mod-clickable' : ''}`}
            data-testid={`${props.testId}-item`}
            onClick={props.onSelect ? () => props.onSelect!(item) : undefined}
            onKeyDown={
              props.onSelect
                ? event => {
                    if (event.key === 'Enter') {
                      props.onSelect!(item);
                    }
                  }
                : undefined
            }
            tabIndex={props.onSelect ? 0 : undefined}
          >
            {props.renderItem(item)}
          </li>
        ))}
      </ul>
    );
  }

  // The tab shows how many there are; the list says so only when it shows fewer.
  const count =
    items && items.length > 0
      ? query
        ? `${shown.length} of ${items.length}`
        : props.total && props.total > items.length
          ? `latest ${items.length} of ${props.total}`
          : null
      : null;

  return (
    <div className="jp-Governance-searchable" data-testid={props.testId}>
      <div className="jp-Governance-search">
        <input
          type="search"
          className="jp-Governance-input"
          placeholder={props.placeholder}
          value={query}
          onChange={event => setQuery(event.target.value)}
          aria-label={props.placeholder}
          data-testid={`${props.testId}-search`}
        />
        {count && <span className="jp-Governance-count">{count}</span>}
      </div>
      {body}
    </div>
  );
}
