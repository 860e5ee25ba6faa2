// The dashboard page. zod must be configured before the verifier's schemas are built: first import.
import './zod-jitless.js';
import { startAudit } from './audit.js';
import { byId } from './dom.js';
import { startLive } from './live.js';

const audit = startAudit();

/** Shows the view the location's hash names (#live or #audit). */
function route(): void {
  const view = location.hash === '#audit' ? 'audit' : 'live';
  for (const v of ['live', 'audit']) {
    byId(v).hidden = v !== view;
    const tab = byId(`tab-${v}`);
    if (v === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'audit') audit.show();
}

window.addEventListener('hashchange', route);
startLive((report) => audit.setReport(report));
route();
