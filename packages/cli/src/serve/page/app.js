// The page of `porpoise serve`: plain DOM and uPlot, every number from this origin's /api/.
// The view lives in the URL's query (shareable, reload-safe); a token only in its #hash,
// which browsers never send to the server nor put in a Referer.
import uPlot from '/assets/uPlot.esm.js';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000'];
const LIFECYCLE = [
  ['new', '#0072B2'],
  ['returning', '#009E73'],
  ['resurrecting', '#E69F00'],
  ['dormant', '#D55E00'],
];
const VIEWS = ['trend', 'funnel', 'retention', 'lifecycle', 'activity'];
const PERIOD_OF = { hour: 'daily', day: 'daily', week: 'weekly', month: 'monthly' };
const KEYWORDS = new Set(['and', 'or', 'xor', 'not']);
const DEMO_FUNNEL = ['signup', 'first-play', 'playlist:created', 'subscribed'];

const number = new Intl.NumberFormat('en-US');
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

const $ = (selector) => document.querySelector(selector);
const controls = $('#controls');
const options = $('#view-options');
const result = $('#result');
const status = $('#status');

let token =
  new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem('porpoise-token');
let zone = 'UTC';
let inFlight = null;
let charts = [];

class ApiFailure extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function api(path, params, signal) {
  const url = new URL(path, location.origin);
  for (const [key, value] of params) url.searchParams.append(key, value);
  for (let attempt = 0; ; attempt++) {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(url, { headers, signal });
    if (response.status === 401 && attempt === 0) {
      const given = window.prompt('This server needs its access token:');
      if (given) {
        token = given.trim();
        sessionStorage.setItem('porpoise-token', token);
        continue;
      }
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiFailure(body?.error?.message ?? `HTTP ${response.status}`, body?.error?.code ?? 'HTTP');
    }
    return body;
  }
}

// ---- state <-> URL ----------------------------------------------------------------------

function readState() {
  const q = new URLSearchParams(location.search);
  const view = q.get('view');
  return {
    view: VIEWS.includes(view) ? view : 'trend',
    a: q.get('a') ?? '',
    // Paired: the k-th operator joins the k-th further event.
    op: q.getAll('op'),
    b: q.getAll('b'),
    seg: q.get('seg') ?? '',
    unit: q.get('unit') ?? 'day',
    last: q.get('last') ?? '14',
    current: q.get('current') === '1',
    step: q.getAll('step'),
    window: q.get('window') ?? '7',
    start: q.get('start') ?? '',
    returning: q.get('returning') ?? '',
    periods: q.get('periods') ?? '6',
    kind: q.get('kind') ?? 'exact',
  };
}

function writeState(state) {
  const q = new URLSearchParams();
  q.set('view', state.view);
  if (state.a) q.set('a', state.a);
  state.b.forEach((name, k) => {
    q.append('op', state.op[k] ?? '');
    q.append('b', name);
  });
  for (const key of ['seg', 'unit', 'last']) if (state[key]) q.set(key, state[key]);
  if (state.current) q.set('current', '1');
  if (state.view === 'funnel') {
    for (const step of state.step) if (step) q.append('step', step);
    q.set('window', state.window);
  }
  if (state.view === 'retention') {
    for (const key of ['start', 'returning', 'periods', 'kind']) if (state[key]) q.set(key, state[key]);
  }
  const url = `${location.pathname}?${q}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

function stateFromForm(previous) {
  const steps = [...options.querySelectorAll('input[name="step"]')].map((input) => input.value.trim());
  return {
    ...previous,
    a: $('#event-a').value.trim(),
    op: termRows().map((row) => row.querySelector('select').value),
    b: termRows().map((row) => row.querySelector('input').value.trim()),
    seg: $('#segment').value,
    unit: $('#unit').value,
    last: $('#last').value,
    current: $('#current').checked,
    step: steps.filter((step) => step !== ''),
    window: $('#window').value,
    start: $('#retention-start').value.trim(),
    returning: $('#retention-returning').value.trim(),
    periods: $('#periods').value,
    kind: $('#kind').value,
  };
}

function fillForm(state) {
  $('#event-a').value = state.a;
  while (termRows().length < Math.min(MAX_TERMS, state.b.length)) addTermRow();
  termRows().forEach((row, k) => {
    row.querySelector('select').value = state.op[k] ?? '';
    row.querySelector('input').value = state.b[k] ?? '';
  });
  $('#segment').value = state.seg;
  $('#unit').value = state.unit;
  $('#last').value = state.last;
  $('#current').checked = state.current;
  options.querySelectorAll('input[name="step"]').forEach((input, k) => {
    input.value = state.step[k] ?? '';
  });
  $('#window').value = state.window;
  $('#retention-start').value = state.start;
  $('#retention-returning').value = state.returning;
  $('#periods').value = state.periods;
  $('#kind').value = state.kind;
}

/** A name as the expression grammar reads it: quoted when it could be misread. */
function operand(name) {
  return /^[^\s()"]+$/.test(name) && !KEYWORDS.has(name.toLowerCase()) && !name.startsWith('segment:')
    ? name
    : JSON.stringify(name);
}

function expressionOf(state) {
  if (!state.a) return '';
  // Left to right, parenthesised where the operator changes: what the builder shows is what runs.
  let text = operand(state.a);
  let previous = null;
  state.b.forEach((name, k) => {
    const op = state.op[k];
    if (!op || !name) return;
    if (previous !== null && previous !== op) text = `(${text})`;
    text = `${text} ${op} ${operand(name)}`;
    previous = op;
  });
  if (state.seg) {
    const segment = /^[^\s()"]+$/.test(state.seg) ? state.seg : JSON.stringify(state.seg);
    text = `${previous === null ? text : `(${text})`} and segment:${segment}`;
  }
  return text;
}

function rangeParams(state) {
  const last = Math.max(1, Number.parseInt(state.last, 10) || 1);
  return [
    ['from', String(-last)],
    ['to', state.current ? '1' : '0'],
  ];
}

const MAX_TERMS = 6;

function termRows() {
  return [...document.querySelectorAll('#terms .term')];
}

/** One more "operator, event" pair, removable (the first one stays). */
function addTermRow() {
  // The first event is 1 and the fixed second row 2.
  const number = termRows().length + 2;
  const select = element('select', { name: 'op', 'aria-label': `operator before event ${number}` }, [
    element('option', { value: '', text: '(skip)' }),
    ...['and', 'or', 'and not'].map((op) => element('option', { value: op, text: op })),
  ]);
  select.value = 'or';
  const remove = element('button', { type: 'button', className: 'remove-term', text: 'remove' });
  const row = element('div', { className: 'term' }, [
    element('label', {}, ['Operator', select]),
    element('label', {}, [
      `Event ${number}`,
      element('input', { name: 'b', list: 'event-names', spellcheck: 'false' }),
    ]),
    remove,
  ]);
  remove.addEventListener('click', () => {
    row.remove();
    changed({ type: 'change', target: remove });
  });
  $('#terms').append(row);
  $('#add-term').disabled = termRows().length >= MAX_TERMS;
  return row;
}

// ---- formatting ---------------------------------------------------------------------------

const LABELS = {
  hour: {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  },
  day: { weekday: 'short', day: 'numeric', month: 'short' },
  week: { day: 'numeric', month: 'short', year: 'numeric' },
  month: { month: 'long', year: 'numeric' },
};

function bucketLabel(iso, unit) {
  const text = new Intl.DateTimeFormat('en-GB', { ...LABELS[unit], timeZone: zone }).format(new Date(iso));
  return unit === 'week' ? `week of ${text}` : text;
}

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function table(caption, head, rows) {
  return element('div', { className: 'scroll' }, [
    element('table', {}, [
      element('caption', { text: caption }),
      element('thead', {}, [
        element(
          'tr',
          {},
          head.map((h) => element('th', { scope: 'col', text: h })),
        ),
      ]),
      element('tbody', {}, rows),
    ]),
  ]);
}

const TICKS = {
  hour: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  day: { day: 'numeric', month: 'short' },
  week: { day: 'numeric', month: 'short' },
  month: { month: 'short', year: 'numeric' },
};

/** Ticks on bucket starts only (uPlot would put 8am/4pm ticks between days), thinned to fit. */
function bucketAxis(xs, unit, width) {
  const fits = Math.max(2, Math.floor(width / 80));
  const every = Math.ceil(xs.length / fits);
  const format = new Intl.DateTimeFormat('en-GB', { ...TICKS[unit], timeZone: zone });
  return {
    stroke: '#333',
    grid: { stroke: '#e4e4e4' },
    splits: () => xs.filter((_, k) => k % every === 0),
    values: (_u, splits) => splits.map((seconds) => format.format(new Date(seconds * 1000))),
  };
}

function lineChart(container, { label, series, xs, unit }) {
  const width = Math.max(280, container.clientWidth);
  const chart = new uPlot(
    {
      width,
      height: width < 500 ? 220 : 300,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), zone),
      legend: { show: series.length > 1, live: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [bucketAxis(xs, unit, width), { stroke: '#333', grid: { stroke: '#e4e4e4' }, size: 60 }],
      series: [
        { label: unit, value: (_u, seconds) => (seconds == null ? '' : bucketLabel(seconds * 1000, unit)) },
        ...series.map((s, k) => ({
          label: s.label,
          stroke: COLOURS[k % COLOURS.length],
          width: 2,
          fill: series.length === 1 ? 'rgba(0, 114, 178, 0.12)' : undefined,
          points: { show: xs.length <= 60 },
          value: (_u, v) => (v == null ? '' : number.format(v)),
        })),
      ],
    },
    [xs, ...series.map((s) => s.values)],
    container,
  );
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label', label);
  charts.push({ chart, container, xs, unit });
  return chart;
}

// ---- views --------------------------------------------------------------------------------

async function trendView(state, signal) {
  const expr = expressionOf(state);
  if (!expr) return element('p', { className: 'hint', text: 'Pick an event to chart.' });
  const body = await api(
    '/api/counts',
    [['expr', expr], ['unit', state.unit], ...rangeParams(state)],
    signal,
  );
  const counts = body.buckets.map((b) => b.count);
  const peak = Math.max(0, ...counts);
  const wrapper = element('div', { className: 'trend' }, [
    element('h2', { text: `${body.expr}, per ${state.unit}` }),
    element('p', { className: 'summary' }, [
      `${body.range.buckets} ${state.unit}s · peak `,
      element('strong', { text: number.format(peak) }),
      ' · latest ',
      element('strong', { text: number.format(counts.at(-1) ?? 0) }),
    ]),
  ]);
  const plot = element('div', { className: 'chart' });
  wrapper.append(plot);
  wrapper.append(
    table(
      'Users per bucket',
      [state.unit, 'users'],
      body.buckets.map((b) =>
        element('tr', { 'data-key': b.key }, [
          element('th', { scope: 'row', text: bucketLabel(b.start, state.unit) }),
          element('td', { 'data-count': b.count, text: number.format(b.count) }),
        ]),
      ),
    ),
  );
  return {
    node: wrapper,
    mount: () =>
      lineChart(plot, {
        label: `${body.expr}: ${body.range.buckets} ${state.unit}s, peak ${number.format(peak)}`,
        unit: state.unit,
        xs: body.buckets.map((b) => Date.parse(b.start) / 1000),
        series: [{ label: 'users', values: counts }],
      }),
  };
}

async function funnelView(state, signal) {
  const steps = state.step;
  if (steps.length === 0) return element('p', { className: 'hint', text: 'Name at least one step.' });
  const params = [...steps.map((s) => ['step', operand(s)]), ['window', state.window], ['unit', state.unit]];
  const body = await api('/api/funnel', [...params, ...rangeParams(state)], signal);
  const first = body.steps[0]?.count ?? 0;
  const list = element(
    'ol',
    { className: 'funnel' },
    body.steps.map((s, k) =>
      element('li', { 'data-step': s.step, 'data-count': s.count }, [
        element('span', { className: 'name', text: steps[k] }),
        element('span', { className: 'track' }, [
          element('span', {
            className: 'bar',
            style: `width: ${first === 0 ? 0 : Math.max(0.5, (100 * s.count) / first)}%`,
          }),
        ]),
        element('span', { className: 'count', text: number.format(s.count) }),
        element('span', {
          className: 'rate',
          text:
            k === 0
              ? ''
              : `${percent.format(s.fromStart)} of step 1 · ${percent.format(s.fromPrevious)} of previous`,
        }),
      ]),
    ),
  );
  const converted = body.timeToConvert.reduce((n, t) => n + t.count, 0);
  return element('div', {}, [
    element('h2', {
      text: `Funnel within ${body.window} ${body.unit}${body.window === 1 ? '' : 's'} (${body.order})`,
    }),
    element('p', {
      className: 'summary',
      text: `${body.range.buckets} ${body.unit}s of step-1 starts${body.partial ? ' · some windows are still open' : ''}`,
    }),
    list,
    table(
      `Time to convert (${number.format(converted)} users reached the last step)`,
      [`${body.unit}s`, 'users'],
      body.timeToConvert.map((t) =>
        element('tr', {}, [
          element('th', { scope: 'row', text: String(t.buckets) }),
          element('td', { text: number.format(t.count) }),
        ]),
      ),
    ),
  ]);
}

/** A blue ramp; black text on the light half, white on the dark, both at least 4.5:1. */
function heat(rate) {
  const lightness = 97 - Math.round(rate * 67);
  return { background: `hsl(205 85% ${lightness}%)`, color: lightness < 43 ? '#fff' : '#000' };
}

async function retentionView(state, signal) {
  if (!state.start || !state.returning) {
    return element('p', { className: 'hint', text: 'Name the cohort event and the returning event.' });
  }
  const params = [
    ['start', operand(state.start)],
    ['returning', operand(state.returning)],
    ['unit', state.unit],
    ['periods', state.periods],
    ['kind', state.kind],
  ];
  const body = await api('/api/retention', [...params, ...rangeParams(state)], signal);
  const columns = Array.from({ length: body.periods }, (_, k) => `${state.unit} ${k}`);
  const rows = body.rows.map((row) =>
    element('tr', { 'data-cohort': row.key }, [
      element('th', { scope: 'row', text: bucketLabel(row.start, state.unit) }),
      element('td', { className: 'size', 'data-size': row.size, text: number.format(row.size) }),
      ...columns.map((_, k) => {
        const cell = row.cells[k];
        if (cell === undefined) return element('td', { className: 'empty' });
        const colours = heat(cell.rate);
        return element('td', {
          className: cell.partial ? 'cell partial' : 'cell',
          'data-period': cell.period,
          'data-retained': cell.retained,
          'data-rate': cell.rate,
          title: `${number.format(cell.retained)} of ${number.format(row.size)}`,
          style: `background: ${colours.background}; color: ${colours.color}`,
          text: percent.format(cell.rate),
        });
      }),
    ]),
  );
  rows.push(
    element('tr', { className: 'average' }, [
      element('th', { scope: 'row', text: 'average' }),
      element('td', { className: 'size', text: number.format(body.curve[0]?.size ?? 0) }),
      ...columns.map((_, k) =>
        element('td', { 'data-curve': k, text: body.curve[k] ? percent.format(body.curve[k].rate) : '' }),
      ),
    ]),
  );
  return element('div', {}, [
    element('h2', { text: `Retention: ${body.start} → ${body.returning} (${body.kind}), by ${state.unit}` }),
    element('p', {
      className: 'summary',
      text: 'Each row a cohort; a cell the share that came back in that period (italic: not ended yet).',
    }),
    table('Retention grid', ['cohort', 'users', ...columns], rows),
  ]);
}

async function lifecycleView(state, signal) {
  const expr = expressionOf(state);
  if (!expr) return element('p', { className: 'hint', text: 'Pick an event.' });
  const body = await api(
    '/api/lifecycle',
    [['expr', expr], ['unit', state.unit], ...rangeParams(state)],
    signal,
  );
  const up = Math.max(1, ...body.periods.map((p) => p.new + p.returning + p.resurrecting));
  const down = Math.max(0, ...body.periods.map((p) => p.dormant));
  const scale = 240 / (up + down);
  const bars = element(
    'div',
    { className: 'lifecycle', role: 'img', 'aria-label': `Lifecycle of ${body.expr} per ${state.unit}` },
    body.periods.map((p) =>
      element('div', { className: 'period', 'data-key': p.key }, [
        element('div', { className: 'up', style: `height: ${Math.round(up * scale)}px` }, [
          ...LIFECYCLE.slice(0, 3).map(([key, colour]) =>
            element('span', {
              title: `${key}: ${number.format(p[key])}`,
              style: `height: ${p[key] * scale}px; background: ${colour}`,
            }),
          ),
        ]),
        element('div', { className: 'down', style: `height: ${Math.round(down * scale)}px` }, [
          element('span', {
            title: `dormant: ${number.format(p.dormant)}`,
            style: `height: ${p.dormant * scale}px; background: ${LIFECYCLE[3][1]}`,
          }),
        ]),
        element('div', {
          className: 'label',
          text: bucketLabel(p.start, state.unit).replace('week of ', ''),
        }),
      ]),
    ),
  );
  const legend = element(
    'ul',
    { className: 'legend' },
    LIFECYCLE.map(([key, colour]) =>
      element('li', {}, [element('span', { className: 'swatch', style: `background: ${colour}` }), key]),
    ),
  );
  return element('div', {}, [
    element('h2', { text: `Lifecycle of ${body.expr}, by ${state.unit}` }),
    legend,
    element('div', { className: 'scroll' }, [bars]),
    table(
      'Users per period',
      [state.unit, 'new', 'returning', 'resurrecting', 'dormant', 'active'],
      body.periods.map((p) =>
        element('tr', { 'data-key': p.key }, [
          element('th', { scope: 'row', text: bucketLabel(p.start, state.unit) }),
          ...['new', 'returning', 'resurrecting', 'dormant', 'active'].map((key) =>
            element('td', {
              [`data-${key}`]: p[key],
              text: `${key === 'dormant' && p[key] > 0 ? '−' : ''}${number.format(p[key])}`,
            }),
          ),
        ]),
      ),
    ),
  ]);
}

async function activityView(state, signal) {
  const period = PERIOD_OF[state.unit];
  const params = [['period', period], ...rangeParams(state)];
  const body = await api('/api/activity', params, signal);
  const unit = { daily: 'day', weekly: 'week', monthly: 'month' }[period];
  const wrapper = element('div', {}, [
    element('h2', { text: `Active users by bucket, ${period}` }),
    element('p', {
      className: 'summary',
      text:
        body.buckets.length === 0
          ? 'No activity bucket has been tracked.'
          : `${body.rows.length} ${unit}s${state.unit === 'hour' ? ' (activity is tracked by day at the finest)' : ''}`,
    }),
  ]);
  if (body.rows.every((row) => body.buckets.every((bucket) => !row.counts[bucket]))) {
    wrapper.append(
      element('p', {
        className: 'hint',
        text: `No ${period} activity in these periods: the tracker may not record ${period} periods; try another unit.`,
      }),
    );
  }
  if (body.buckets.length === 0) return wrapper;
  const plot = element('div', { className: 'chart' });
  wrapper.append(plot);
  wrapper.append(
    table(
      'Active users',
      [unit, ...body.buckets, 'final'],
      body.rows.map((row) =>
        element('tr', { 'data-date': row.date }, [
          element('th', { scope: 'row', text: bucketLabel(`${row.date}T00:00:00Z`, unit) }),
          ...body.buckets.map((bucket) =>
            element('td', {
              'data-bucket': bucket,
              'data-count': row.counts[bucket] ?? 0,
              text: number.format(row.counts[bucket] ?? 0),
            }),
          ),
          element('td', { text: row.final ? 'yes' : 'live' }),
        ]),
      ),
    ),
  );
  return {
    node: wrapper,
    mount: () =>
      lineChart(plot, {
        label: `Active users by bucket: ${body.buckets.join(', ')}`,
        unit,
        xs: body.rows.map((row) => Date.parse(`${row.date}T00:00:00Z`) / 1000),
        series: body.buckets.map((bucket) => ({
          label: bucket,
          values: body.rows.map((row) => row.counts[bucket] ?? 0),
        })),
      }),
  };
}

const RENDER = {
  trend: trendView,
  funnel: funnelView,
  retention: retentionView,
  lifecycle: lifecycleView,
  activity: activityView,
};

// ---- the loop -----------------------------------------------------------------------------

let state = readState();
let names = { events: [], segments: [], counters: [], buckets: [] };

function showTabs() {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.view === state.view;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  $('#view').setAttribute('aria-labelledby', `tab-${state.view}`);
  for (const fieldset of options.querySelectorAll('fieldset'))
    fieldset.hidden = fieldset.dataset.for !== state.view;
  $('#expression').textContent = expressionOf(state) || '(no event)';
}

async function render() {
  showTabs();
  writeState(state);
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const view = $('#view');
  view.setAttribute('aria-busy', 'true');
  // For scripts and tests: loading, then shown or failed.
  view.dataset.state = 'loading';
  status.textContent = 'Loading…';
  status.className = 'status loading';
  status.setAttribute('role', 'status');
  try {
    const made = await RENDER[state.view](state, controller.signal);
    if (controller.signal.aborted) return;
    for (const { chart } of charts) chart.destroy();
    charts = [];
    const node = made instanceof Node ? made : made.node;
    result.replaceChildren(node);
    if (!(made instanceof Node)) made.mount();
    status.textContent = '';
    status.className = 'status';
    view.dataset.state = 'shown';
  } catch (error) {
    if (controller.signal.aborted || error.name === 'AbortError') return;
    status.className = 'status error';
    status.setAttribute('role', 'alert');
    status.textContent =
      error instanceof ApiFailure ? `${error.message} (${error.code})` : `Could not load: ${error.message}`;
    result.replaceChildren();
    view.dataset.state = 'failed';
  } finally {
    if (inFlight === controller) view.removeAttribute('aria-busy');
  }
}

function defaults() {
  const has = (name) => names.events.includes(name);
  const pick = (...choices) => choices.find(has) ?? names.events[0] ?? '';
  if (!state.a) state.a = pick('active');
  if (state.step.length === 0) {
    state.step = DEMO_FUNNEL.every(has) ? [...DEMO_FUNNEL] : names.events.slice(0, 2);
  }
  if (!state.start) state.start = pick('signup');
  if (!state.returning) state.returning = pick('active');
}

async function start() {
  try {
    names = await api('/api/names', []);
  } catch (error) {
    $('#source').textContent = 'not connected';
    status.className = 'status error';
    status.setAttribute('role', 'alert');
    status.textContent = error.message;
    $('#view').dataset.state = 'failed';
    return;
  }
  zone = names.zone;
  $('#source').textContent =
    `${names.source} · ${names.zone} · now ${names.now.slice(0, 16).replace('T', ' ')}`;
  $('#event-names').replaceChildren(...names.events.map((name) => element('option', { value: name })));
  $('#segment').append(...names.segments.map((name) => element('option', { value: name, text: name })));
  defaults();
  fillForm(state);
  render();
}

let typing = null;
function changed(event) {
  state = stateFromForm(state);
  // Typing in a name waits for a pause; picking from a list or a select applies at once.
  clearTimeout(typing);
  if (event.type === 'input' && event.target.matches('input[list], input[type="number"]')) {
    typing = setTimeout(render, 400);
  } else {
    render();
  }
}

for (const form of [controls, options]) {
  form.addEventListener('change', changed);
  form.addEventListener('input', changed);
  form.addEventListener('submit', (event) => event.preventDefault());
}

$('#add-term').addEventListener('click', () => {
  addTermRow().querySelector('input').focus();
});

const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const tab of tabs) {
  tab.addEventListener('click', () => {
    state = { ...stateFromForm(state), view: tab.dataset.view };
    render();
  });
  tab.addEventListener('keydown', (event) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    next.focus();
    next.click();
  });
}

let resizing = null;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const { chart, container, xs, unit } of charts) {
      const width = Math.max(280, container.clientWidth);
      chart.axes[0].splits = bucketAxis(xs, unit, width).splits;
      chart.setSize({ width, height: width < 500 ? 220 : 300 });
    }
  }, 150);
});

start();
