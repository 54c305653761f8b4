/** Requests to the extension's routes on the Jupyter server (which adds the service's API key). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ServiceError, type FetchJson } from './api';

export const ROUTE = 'governance';

export function makeFetchJson(settings: ServerConnection.ISettings): FetchJson {
  return async (path: string, init: RequestInit = {}) => {
    const [route, query] = path.split('?', 2);
    const url = URLExt.join(settings.baseUrl, ROUTE, route) + (query ? `?${query}` : '');
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, settings); // adds the token and XSRF header
    } catch (error) {
      throw new ServerConnection.NetworkError(error as TypeError);
    }
    const text = await response.text();
    let data: any = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      // The service's errors are {"error": {"code", "message", "fields"}}; the extension's {"message"}.
      const message = data?.error?.message ?? data?.message ?? `${response.status} ${response.statusText}`;
      throw new ServiceError(message, response.status, data?.error?.code ?? '', data?.error?.fields ?? {});
    }
    return data;
  };
}
