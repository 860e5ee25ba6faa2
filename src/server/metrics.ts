import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The coordinator's Prometheus metrics, on a Registry of its own (never prom-client's global one,
 * so that several coordinators in one process — tests, simulations — do not collide).
 */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly requestSeconds: Histogram<'method' | 'route'>;
  readonly rejections: Counter<'code'>;
  readonly rounds: Counter<'outcome'>;
  readonly roundSeconds: Histogram<'outcome'>;
  readonly dropouts: Counter<'phase'>;
  readonly currentRound: Gauge;
  readonly modelVersion: Gauge;
  readonly participants: Gauge<'phase'>;
  readonly epsilon: Gauge;
  readonly asyncGroupsDissolved: Counter;
  readonly uploads: Gauge<'state'>;
  /** The masked-input staging pool whose slots {@link uploads} reports; set by the HTTP app. */
  uploadPool: { readonly inUse: number; readonly waiting: number } | null = null;

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'fedveil_process_' });
    const registers = [this.registry];
    this.requests = new Counter({ name: 'fedveil_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers });
    this.requestSeconds = new Histogram({
      name: 'fedveil_http_request_seconds',
      help: 'HTTP request latency (long-polls excluded)',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.rejections = new Counter({ name: 'fedveil_http_rejections_total', help: 'Requests rejected, by rule', labelNames: ['code'], registers });
    this.rounds = new Counter({ name: 'fedveil_rounds_total', help: 'Rounds ended, by outcome', labelNames: ['outcome'], registers });
    this.roundSeconds = new Histogram({
      name: 'fedveil_round_seconds',
      help: 'Round wall-clock duration',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.dropouts = new Counter({ name: 'fedveil_dropouts_total', help: 'Participants that missed a phase', labelNames: ['phase'], registers });
    this.currentRound = new Gauge({ name: 'fedveil_current_round', help: 'Id of the running (or last) round', registers });
    this.modelVersion = new Gauge({ name: 'fedveil_model_version', help: 'Published global model version', registers });
    this.participants = new Gauge({ name: 'fedveil_round_participants', help: 'Participants still in the running round, by phase', labelNames: ['phase'], registers });
    this.epsilon = new Gauge({ name: 'fedveil_epsilon_spent', help: 'Epsilon spent so far per the ledger (RDP accountant)', registers });
    this.asyncGroupsDissolved = new Counter({ name: 'fedveil_async_groups_dissolved_total', help: 'Asynchronous groups dissolved for want of ready participants', registers });
    const pool = () => this.uploadPool;
    this.uploads = new Gauge({
      name: 'fedveil_masked_uploads',
      help: 'Masked inputs holding a staging slot (staged) and waiting, unread, for one (waiting)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = pool();
        this.set({ state: 'staged' }, p?.inUse ?? 0);
        this.set({ state: 'waiting' }, p?.waiting ?? 0);
      },
    });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
