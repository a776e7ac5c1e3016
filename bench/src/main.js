var __assign =
  (this && this.__assign) ||
  function () {
    __assign =
      Object.assign ||
      function (t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
          s = arguments[i];
          for (var p in s) if (Object.hasOwn(s, p)) t[p] = s[p];
        }
        return t;
      };
    return __assign.apply(this, arguments);
  };
var __awaiter =
  (this && this.__awaiter) ||
  ((thisArg, _arguments, P, generator) => {
    function adopt(value) {
      return value instanceof P
        ? value
        : new P((resolve) => {
            resolve(value);
          });
    }
    return new (P || (P = Promise))((resolve, reject) => {
      function fulfilled(value) {
        try {
          step(generator.next(value));
        } catch (e) {
          reject(e);
        }
      }
      function rejected(value) {
        try {
          step(generator['throw'](value));
        } catch (e) {
          reject(e);
        }
      }
      function step(result) {
        result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected);
      }
      step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
  });
var __generator =
  (this && this.__generator) ||
  ((thisArg, body) => {
    var _ = {
        label: 0,
        sent: () => {
          if (t[0] & 1) throw t[1];
          return t[1];
        },
        trys: [],
        ops: [],
      },
      f,
      y,
      t,
      g = Object.create((typeof Iterator === 'function' ? Iterator : Object).prototype);
    return (
      (g.next = verb(0)),
      (g['throw'] = verb(1)),
      (g['return'] = verb(2)),
      typeof Symbol === 'function' &&
        (g[Symbol.iterator] = function () {
          return this;
        }),
      g
    );
    function verb(n) {
      return (v) => step([n, v]);
    }
    function step(op) {
      if (f) throw new TypeError('Generator is already executing.');
      while ((g && ((g = 0), op[0] && (_ = 0)), _))
        try {
          if (
            ((f = 1),
            y &&
              (t =
                op[0] & 2
                  ? y['return']
                  : op[0]
                    ? y['throw'] || ((t = y['return']) && t.call(y), 0)
                    : y.next) &&
              !(t = t.call(y, op[1])).done)
          )
            return t;
          if (((y = 0), t)) op = [op[0] & 2, t.value];
          switch (op[0]) {
            case 0:
            case 1:
              t = op;
              break;
            case 4:
              _.label++;
              return { value: op[1], done: false };
            case 5:
              _.label++;
              y = op[1];
              op = [0];
              continue;
            case 7:
              op = _.ops.pop();
              _.trys.pop();
              continue;
            default:
              if (!((t = _.trys), (t = t.length > 0 && t[t.length - 1])) && (op[0] === 6 || op[0] === 2)) {
                _ = 0;
                continue;
              }
              if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) {
                _.label = op[1];
                break;
              }
              if (op[0] === 6 && _.label < t[1]) {
                _.label = t[1];
                t = op;
                break;
              }
              if (t && _.label < t[2]) {
                _.label = t[2];
                _.ops.push(op);
                break;
              }
              if (t[2]) _.ops.pop();
              _.trys.pop();
              continue;
          }
          op = body.call(thisArg, _);
        } catch (e) {
          op = [6, e];
          y = 0;
        } finally {
          f = t = 0;
        }
      if (op[0] & 5) throw op[1];
      return { value: op[0] ? op[1] : void 0, done: true };
    }
  });
var __asyncValues =
  (this && this.__asyncValues) ||
  ((o) => {
    if (!Symbol.asyncIterator) throw new TypeError('Symbol.asyncIterator is not defined.');
    var m = o[Symbol.asyncIterator],
      i;
    return m
      ? m.call(o)
      : ((o = typeof __values === 'function' ? __values(o) : o[Symbol.iterator]()),
        (i = {}),
        verb('next'),
        verb('throw'),
        verb('return'),
        (i[Symbol.asyncIterator] = function () {
          return this;
        }),
        i);
    function verb(n) {
      i[n] =
        o[n] &&
        ((v) =>
          new Promise((resolve, reject) => {
            (v = o[n](v)), settle(resolve, reject, v.done, v.value);
          }));
    }
    function settle(resolve, reject, d, v) {
      Promise.resolve(v).then((v) => {
        resolve({ value: v, done: d });
      }, reject);
    }
  });
var __spreadArray =
  (this && this.__spreadArray) ||
  function (to, from, pack) {
    if (pack || arguments.length === 2)
      for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
          if (!ar) ar = Array.prototype.slice.call(from, 0, i);
          ar[i] = from[i];
        }
      }
    return to.concat(ar || Array.prototype.slice.call(from));
  };
Object.defineProperty(exports, '__esModule', { value: true });
/**
 * Porpoise benchmarks. `pnpm bench` (full sizes) or `pnpm bench --quick` (small sizes, run
 * in CI only to prove the benchmarks still work). Starts its own redis-server, prints one
 * markdown table and writes bench/RESULTS.md (full runs only).
 */
var node_util_1 = require('node:util');
var activity_1 = require('@porpoise/activity');
var counters_1 = require('@porpoise/counters');
var events_1 = require('@porpoise/events');
var storage_1 = require('@porpoise/storage');
var timerange_1 = require('@porpoise/timerange');
var ioredis_1 = require('ioredis');
var report_js_1 = require('./report.js');
var redis_server_js_1 = require('./redis-server.js');
var args = (0, node_util_1.parseArgs)({ options: { quick: { type: 'boolean', default: false } } }).values;
var quick = args.quick;
var NOW = new Date('2026-11-24T12:00:00Z');
var DAY = 86400000;
var rows = [];
var seed = 12345;
var random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
function log(row) {
  rows.push(row);
  console.log(
    ''
      .concat(row.scenario, ': ')
      .concat(row.ours, ' vs ')
      .concat(row.baseline, ' (')
      .concat(row.ratio, ')')
      .concat(row.met === false ? '  << goal missed' : ''),
  );
}
function flush(client) {
  return __awaiter(this, void 0, void 0, function () {
    return __generator(this, (_a) => {
      switch (_a.label) {
        case 0:
          return [4 /*yield*/, client.flushall()];
        case 1:
          _a.sent();
          return [2 /*return*/];
      }
    });
  });
}
/** Offsets of a random bitmap with `density` of `users` bits set. */
function randomIds(users, density) {
  var out = [];
  for (var id = 0; id < users; id++) if (random() < density) out.push(id);
  return out;
}
function main() {
  return __awaiter(this, void 0, void 0, function () {
    var started,
      server,
      client,
      backend,
      now,
      n,
      names_1,
      records_1,
      events_2,
      ours,
      keyer_1,
      units_1,
      baseline,
      events_3,
      total_1,
      ours,
      memory,
      events_4,
      ours,
      keyer_2,
      maps_1,
      baseline,
      users,
      days_2,
      pipeline,
      ops,
      _i,
      days_1,
      day,
      ids,
      raw,
      _a,
      ids_1,
      id,
      events_5,
      reads_1,
      counting,
      countingEvents,
      ours,
      baseline,
      hours_2,
      size,
      ops,
      pipeline,
      _b,
      hours_1,
      hour,
      _c,
      _d,
      name_1,
      ids,
      raw,
      _e,
      ids_2,
      id,
      events,
      query_1,
      range_1,
      ours,
      baseline,
      transferred_1,
      materialised,
      cohortUsers_1,
      weeks_1,
      ops_1,
      memory,
      run,
      onRedis,
      onMemory,
      m,
      increments_1,
      counters_2,
      ours,
      keyer_3,
      baseline,
      ids_3,
      platforms_1,
      yesterday_1,
      _loop_1,
      _f,
      _g,
      mode,
      reads_2,
      counting,
      lookupTracker_1,
      lookup,
      events,
      dense,
      sparseIds,
      sparse,
      text;
    var _this = this;
    return __generator(this, (_h) => {
      switch (_h.label) {
        case 0:
          started = performance.now();
          return [4 /*yield*/, (0, redis_server_js_1.startRedis)()];
        case 1:
          server = _h.sent();
          client = new ioredis_1.Redis(server.url);
          backend = new storage_1.RedisBackend(client, { prefix: 'bench' });
          now = () => NOW;
          _h.label = 2;
        case 2:
          _h.trys.push([2, , 43, 45]);
          n = quick ? 50000 : 1000000;
          names_1 = ['active', 'login', 'song:played', 'signup'];
          records_1 = Array.from({ length: n }, () => ({
            name: names_1[Math.floor(random() * names_1.length)],
            id: Math.floor(random() * 10000000),
            at: NOW.getTime() - Math.floor(random() * DAY),
          }));
          events_2 = new events_1.Events(backend, { now: now });
          return [4 /*yield*/, (0, report_js_1.median)(1, () => events_2.eventMany(records_1))];
        case 3:
          ours = _h.sent();
          return [4 /*yield*/, flush(client)];
        case 4:
          _h.sent();
          keyer_1 = new timerange_1.BucketKeyer();
          units_1 = ['hour', 'day', 'week', 'month'];
          return [
            4 /*yield*/,
            (0, report_js_1.median)(1, () =>
              __awaiter(_this, void 0, void 0, function () {
                var i, pipeline, _i, _a, r, _b, units_2, unit;
                return __generator(this, (_c) => {
                  switch (_c.label) {
                    case 0:
                      i = 0;
                      _c.label = 1;
                    case 1:
                      if (!(i < records_1.length)) return [3 /*break*/, 4];
                      pipeline = client.pipeline();
                      for (_i = 0, _a = records_1.slice(i, i + 10000); _i < _a.length; _i++) {
                        r = _a[_i];
                        for (_b = 0, units_2 = units_1; _b < units_2.length; _b++) {
                          unit = units_2[_b];
                          pipeline.setbit(
                            'raw:'.concat(r.name, ':').concat(unit, ':').concat(keyer_1.key(r.at, unit)),
                            r.id,
                            1,
                          );
                        }
                      }
                      return [4 /*yield*/, pipeline.exec()];
                    case 2:
                      _c.sent();
                      _c.label = 3;
                    case 3:
                      i += 10000;
                      return [3 /*break*/, 1];
                    case 4:
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 5:
          baseline = _h.sent();
          return [4 /*yield*/, flush(client)];
        case 6:
          _h.sent();
          log({
            scenario: '1. Redis ingest: eventMany of '.concat(
              n.toLocaleString('en-US'),
              ' events (ids < 10M, 4 resolutions)',
            ),
            ours: (0, report_js_1.rate)(n, ours),
            baseline: ''.concat((0, report_js_1.rate)(n, baseline), ' (pipelined SETBIT)'),
            ratio: ''.concat((baseline / ours).toFixed(1), '\u00D7'),
            goal: '≥ 2 M/s and ≥ 10×',
            met: (n / ours) * 1000 >= 2e6 && baseline / ours >= 10,
          });
          events_3 = new events_1.Events(backend, { now: now });
          total_1 = quick ? 20000 : 100000;
          return [
            4 /*yield*/,
            (0, report_js_1.median)(1, () =>
              __awaiter(_this, void 0, void 0, function () {
                var i;
                return __generator(this, (_a) => {
                  switch (_a.label) {
                    case 0:
                      i = 0;
                      _a.label = 1;
                    case 1:
                      if (!(i < total_1)) return [3 /*break*/, 4];
                      return [
                        4 /*yield*/,
                        Promise.all(
                          records_1.slice(i, i + 10000).map((r) => events_3.event(r.name, r.id, r.at)),
                        ),
                      ];
                    case 2:
                      _a.sent();
                      _a.label = 3;
                    case 3:
                      i += 10000;
                      return [3 /*break*/, 1];
                    case 4:
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 7:
          ours = _h.sent();
          return [4 /*yield*/, flush(client)];
        case 8:
          _h.sent();
          log({
            scenario: '2. Redis ingest: '.concat(
              total_1.toLocaleString('en-US'),
              ' single event() calls, 10k in flight',
            ),
            ours: (0, report_js_1.rate)(total_1, ours),
            baseline: '—',
            ratio: '—',
            goal: '≥ 0.2 M/s',
            met: (total_1 / ours) * 1000 >= 2e5,
          });
          memory = new storage_1.MemoryBackend();
          events_4 = new events_1.Events(memory, { now: now });
          return [4 /*yield*/, (0, report_js_1.median)(1, () => events_4.eventMany(records_1))];
        case 9:
          ours = _h.sent();
          keyer_2 = new timerange_1.BucketKeyer();
          maps_1 = new Map();
          return [
            4 /*yield*/,
            (0, report_js_1.median)(1, () =>
              __awaiter(_this, void 0, void 0, function () {
                var _i, records_2, r, _a, _b, unit, key, map;
                return __generator(this, (_c) => {
                  for (_i = 0, records_2 = records_1; _i < records_2.length; _i++) {
                    r = records_2[_i];
                    for (_a = 0, _b = ['hour', 'day', 'week', 'month']; _a < _b.length; _a++) {
                      unit = _b[_a];
                      key = ''.concat(r.name, ':').concat(unit, ':').concat(keyer_2.key(r.at, unit));
                      map = maps_1.get(key);
                      if (!map) maps_1.set(key, (map = new Uint8Array(10000000 / 8)));
                      map[r.id >>> 3] |= 0x80 >>> (r.id & 7);
                    }
                  }
                  return [2 /*return*/];
                });
              }),
            ),
          ];
        case 10:
          baseline = _h.sent();
          log({
            scenario: '3. Memory ingest: eventMany of '.concat(
              n.toLocaleString('en-US'),
              ' events (4 resolutions)',
            ),
            ours: (0, report_js_1.rate)(n, ours),
            baseline: ''.concat(
              (0, report_js_1.rate)(n, baseline),
              ' (plain Uint8Array bit sets + key formatting)',
            ),
            ratio: ''.concat((ours / baseline).toFixed(1), '\u00D7 the time'),
            goal: '≥ 5 M/s',
            met: (n / ours) * 1000 >= 5e6,
          });
          users = quick ? 1000000 : 10000000;
          days_2 = __spreadArray([], (0, timerange_1.dayrange)(-30, 0, { now: NOW }), true);
          pipeline = client.pipeline();
          ops = [];
          for (_i = 0, days_1 = days_2; _i < days_1.length; _i++) {
            day = days_1[_i];
            ids = randomIds(users, 0.1);
            ops.push({ op: 'setBits', key: 'events:e:active:day:'.concat(day.key), offsets: ids });
            raw = Buffer.alloc(users / 8);
            for (_a = 0, ids_1 = ids; _a < ids_1.length; _a++) {
              id = ids_1[_a];
              raw[id >>> 3] |= 0x80 >>> (id & 7);
            }
            pipeline.set('raw:active:'.concat(day.key), raw);
          }
          return [4 /*yield*/, backend.write(ops)];
        case 11:
          _h.sent();
          return [4 /*yield*/, pipeline.exec()];
        case 12:
          _h.sent();
          events_5 = new events_1.Events(backend, { resolutions: ['day'], now: now });
          reads_1 = [];
          counting = __assign(__assign({}, backend), {
            name: 'redis',
            read: (o) => (reads_1.push(1), backend.read(o)),
            write: (o, w) => backend.write(o, w),
            supports: (f) => backend.supports(f),
            keys: () => backend.keys(),
            close: () => backend.close(),
          });
          countingEvents = new events_1.Events(counting, { resolutions: ['day'], now: now });
          return [
            4 /*yield*/,
            countingEvents.get('active').counts((0, timerange_1.dayrange)(-30, 0, { now: NOW })),
          ];
        case 13:
          _h.sent();
          return [
            4 /*yield*/,
            (0, report_js_1.median)(7, () =>
              events_5.get('active').counts((0, timerange_1.dayrange)(-30, 0, { now: NOW })),
            ),
          ];
        case 14:
          ours = _h.sent();
          return [
            4 /*yield*/,
            (0, report_js_1.median)(7, () =>
              __awaiter(_this, void 0, void 0, function () {
                var p, _i, days_3, day;
                return __generator(this, (_a) => {
                  switch (_a.label) {
                    case 0:
                      p = client.pipeline();
                      for (_i = 0, days_3 = days_2; _i < days_3.length; _i++) {
                        day = days_3[_i];
                        p.bitcount('raw:active:'.concat(day.key));
                      }
                      return [4 /*yield*/, p.exec()];
                    case 1:
                      _a.sent();
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 15:
          baseline = _h.sent();
          log({
            scenario: '4. counts(dayrange(-30)) on '
              .concat(users.toLocaleString('en-US'), ' users (')
              .concat(reads_1.length, ' round trip)'),
            ours: (0, report_js_1.millis)(ours),
            baseline: ''.concat((0, report_js_1.millis)(baseline), ' (pipeline of 30 BITCOUNT)'),
            ratio: ''.concat((ours / baseline).toFixed(2), '\u00D7'),
            goal: '≤ 1.2×, 1 round trip',
            met: ours / baseline <= 1.2 && reads_1.length === 1,
          });
          return [4 /*yield*/, flush(client)];
        case 16:
          _h.sent();
          hours_2 = __spreadArray([], (0, timerange_1.hourrange)(-24, 0, { now: NOW }), true);
          size = quick ? 1000000 : 10000000;
          ops = [];
          pipeline = client.pipeline();
          for (_b = 0, hours_1 = hours_2; _b < hours_1.length; _b++) {
            hour = hours_1[_b];
            for (_c = 0, _d = ['a', 'b', 'c']; _c < _d.length; _c++) {
              name_1 = _d[_c];
              ids = randomIds(size, 0.05);
              ops.push({
                op: 'setBits',
                key: 'events:e:'.concat(name_1, ':hour:').concat(hour.key),
                offsets: ids,
              });
              raw = Buffer.alloc(size / 8);
              for (_e = 0, ids_2 = ids; _e < ids_2.length; _e++) {
                id = ids_2[_e];
                raw[id >>> 3] |= 0x80 >>> (id & 7);
              }
              pipeline.set('raw:'.concat(name_1, ':').concat(hour.key), raw);
            }
          }
          return [4 /*yield*/, backend.write(ops)];
        case 17:
          _h.sent();
          return [4 /*yield*/, pipeline.exec()];
        case 18:
          _h.sent();
          events = new events_1.Events(backend, { resolutions: ['hour'], now: now });
          query_1 = events.get('a').and(events.get('b')).or(events.get('c'));
          range_1 = (0, timerange_1.hourrange)(-24, 0, { now: NOW });
          return [4 /*yield*/, (0, report_js_1.median)(5, () => query_1.counts(range_1))];
        case 19:
          ours = _h.sent();
          return [
            4 /*yield*/,
            (0, report_js_1.median)(5, () =>
              __awaiter(_this, void 0, void 0, function () {
                var p, _i, hours_3, hour;
                return __generator(this, (_a) => {
                  switch (_a.label) {
                    case 0:
                      p = client.pipeline();
                      for (_i = 0, hours_3 = hours_2; _i < hours_3.length; _i++) {
                        hour = hours_3[_i];
                        p.bitop('AND', 'raw:t', 'raw:a:'.concat(hour.key), 'raw:b:'.concat(hour.key));
                        p.bitop('OR', 'raw:t', 'raw:t', 'raw:c:'.concat(hour.key));
                        p.bitcount('raw:t');
                      }
                      p.del('raw:t');
                      return [4 /*yield*/, p.exec()];
                    case 1:
                      _a.sent();
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 20:
          baseline = _h.sent();
          log({
            scenario: '5a. (a AND b) OR c over 24 hours of '.concat(
              size.toLocaleString('en-US'),
              '-bit maps, counts',
            ),
            ours: (0, report_js_1.millis)(ours),
            baseline: ''.concat((0, report_js_1.millis)(baseline), ' (BITOP + BITCOUNT pipeline)'),
            ratio: ''.concat((ours / baseline).toFixed(2), '\u00D7'),
            goal: '≤ 1.3×',
            met: ours / baseline <= 1.3,
          });
          transferred_1 = 0;
          return [
            4 /*yield*/,
            (0, report_js_1.median)(3, () =>
              __awaiter(_this, void 0, void 0, function () {
                var _a, _b, _c, set, e_1_1;
                var _d, e_1, _e, _f;
                return __generator(this, (_g) => {
                  switch (_g.label) {
                    case 0:
                      transferred_1 = 0;
                      _g.label = 1;
                    case 1:
                      _g.trys.push([1, 6, 7, 12]);
                      (_a = true), (_b = __asyncValues(query_1.over(range_1)));
                      _g.label = 2;
                    case 2:
                      return [4 /*yield*/, _b.next()];
                    case 3:
                      if (!((_c = _g.sent()), (_d = _c.done), !_d)) return [3 /*break*/, 5];
                      _f = _c.value;
                      _a = false;
                      set = _f;
                      transferred_1 += Math.ceil(set.size > 0 ? set.toArray().length : 0);
                      _g.label = 4;
                    case 4:
                      _a = true;
                      return [3 /*break*/, 2];
                    case 5:
                      return [3 /*break*/, 12];
                    case 6:
                      e_1_1 = _g.sent();
                      e_1 = { error: e_1_1 };
                      return [3 /*break*/, 12];
                    case 7:
                      _g.trys.push([7, , 10, 11]);
                      if (!(!_a && !_d && (_e = _b.return))) return [3 /*break*/, 9];
                      return [4 /*yield*/, _e.call(_b)];
                    case 8:
                      _g.sent();
                      _g.label = 9;
                    case 9:
                      return [3 /*break*/, 11];
                    case 10:
                      if (e_1) throw e_1.error;
                      return [7 /*endfinally*/];
                    case 11:
                      return [7 /*endfinally*/];
                    case 12:
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 21:
          materialised = _h.sent();
          log({
            scenario: '5b. the same with ids materialised (over())',
            ours: ''.concat((0, report_js_1.millis)(materialised / 24), ' per bucket'),
            baseline: '—',
            ratio: '—',
            goal: 'report',
            met: null,
          });
          console.log('   ('.concat(transferred_1.toLocaleString('en-US'), ' ids materialised per run)'));
          return [4 /*yield*/, flush(client)];
        case 22:
          _h.sent();
          cohortUsers_1 = quick ? 100000 : 1000000;
          weeks_1 = __spreadArray([], (0, timerange_1.weekrange)(-24, 1, { now: NOW }), true);
          ops_1 = [];
          weeks_1.forEach((week, i) => {
            var signups = [];
            var per = Math.floor(cohortUsers_1 / weeks_1.length);
            for (var id = i * per; id < (i + 1) * per; id++) signups.push(id);
            ops_1.push({ op: 'setBits', key: 'events:e:signup:week:'.concat(week.key), offsets: signups });
            ops_1.push({
              op: 'setBits',
              key: 'events:e:active:week:'.concat(week.key),
              offsets: randomIds(cohortUsers_1, 0.3),
            });
          });
          memory = new storage_1.MemoryBackend();
          return [4 /*yield*/, backend.write(ops_1)];
        case 23:
          _h.sent();
          return [4 /*yield*/, memory.write(ops_1)];
        case 24:
          _h.sent();
          run = (b) => {
            var events = new events_1.Events(b, { resolutions: ['week'], now: now });
            return () =>
              (0, events_1.cohort)({
                cohort: events.get('signup'),
                activity: events.get('active'),
                range: (0, timerange_1.weekrange)(-13, -1, { now: NOW }),
                periods: 12,
              });
          };
          return [4 /*yield*/, (0, report_js_1.median)(7, run(backend))];
        case 25:
          onRedis = _h.sent();
          return [4 /*yield*/, (0, report_js_1.median)(7, run(memory))];
        case 26:
          onMemory = _h.sent();
          log({
            scenario: '6. weekly cohort 12 \u00D7 12 on '.concat(
              cohortUsers_1.toLocaleString('en-US'),
              ' users',
            ),
            ours: ''
              .concat((0, report_js_1.millis)(onRedis), ' Redis, ')
              .concat((0, report_js_1.millis)(onMemory), ' memory'),
            baseline: 'bitmapist ~18 ms (issue figure)',
            ratio: ''.concat((18 / onRedis).toFixed(1), '\u00D7 faster than bitmapist'),
            goal: '≤ 5 ms on both',
            met: onRedis <= 5 && onMemory <= 5,
          });
          return [4 /*yield*/, flush(client)];
        case 27:
          _h.sent();
          m = quick ? 100000 : 1000000;
          increments_1 = Array.from({ length: m }, () => ({
            key: 'song:played',
            id: 'song-'.concat(Math.floor(random() * 10000)),
            at: NOW.getTime() - Math.floor(random() * DAY),
          }));
          counters_2 = new counters_1.Counters(backend, { now: now });
          return [4 /*yield*/, (0, report_js_1.median)(1, () => counters_2.countMany(increments_1))];
        case 28:
          ours = _h.sent();
          return [4 /*yield*/, flush(client)];
        case 29:
          _h.sent();
          keyer_3 = new timerange_1.BucketKeyer();
          return [
            4 /*yield*/,
            (0, report_js_1.median)(1, () =>
              __awaiter(_this, void 0, void 0, function () {
                var i, p, _i, _a, inc, _b, _c, unit;
                return __generator(this, (_d) => {
                  switch (_d.label) {
                    case 0:
                      i = 0;
                      _d.label = 1;
                    case 1:
                      if (!(i < increments_1.length)) return [3 /*break*/, 4];
                      p = client.pipeline();
                      for (_i = 0, _a = increments_1.slice(i, i + 10000); _i < _a.length; _i++) {
                        inc = _a[_i];
                        for (_b = 0, _c = ['hour', 'day', 'week', 'month']; _b < _c.length; _b++) {
                          unit = _c[_b];
                          p.hincrby('raw:'.concat(unit, ':').concat(keyer_3.key(inc.at, unit)), inc.id, 1);
                        }
                      }
                      return [4 /*yield*/, p.exec()];
                    case 2:
                      _d.sent();
                      _d.label = 3;
                    case 3:
                      i += 10000;
                      return [3 /*break*/, 1];
                    case 4:
                      return [2 /*return*/];
                  }
                });
              }),
            ),
          ];
        case 30:
          baseline = _h.sent();
          return [4 /*yield*/, flush(client)];
        case 31:
          _h.sent();
          log({
            scenario: '7. countMany of '.concat(
              m.toLocaleString('en-US'),
              ' increments over 10k ids (4 resolutions)',
            ),
            ours: (0, report_js_1.rate)(m, ours),
            baseline: ''.concat((0, report_js_1.rate)(m, baseline), ' (pipelined HINCRBY)'),
            ratio: ''.concat((baseline / ours).toFixed(1), '\u00D7'),
            goal: '≥ 0.8×',
            met: baseline / ours >= 0.8,
          });
          ids_3 = quick ? 100000 : 1000000;
          platforms_1 = ['web', 'ios', 'android'];
          yesterday_1 = new Date(NOW.getTime() - DAY);
          _loop_1 = function (mode) {
            var tracker, track, memoryUsage, collapse;
            return __generator(this, (_j) => {
              switch (_j.label) {
                case 0:
                  tracker = new activity_1.ActivityTracker(backend, {
                    mode: mode,
                    prefix: 'act-'.concat(mode),
                    now: now,
                  });
                  return [
                    4 /*yield*/,
                    (0, report_js_1.median)(1, () =>
                      __awaiter(_this, void 0, void 0, function () {
                        var _loop_2, i;
                        return __generator(this, (_a) => {
                          switch (_a.label) {
                            case 0:
                              _loop_2 = function (i) {
                                return __generator(this, (_b) => {
                                  switch (_b.label) {
                                    case 0:
                                      return [
                                        4 /*yield*/,
                                        tracker.trackMany(
                                          Array.from({ length: Math.min(100000, ids_3 - i) }, (_, j) => ({
                                            id: i + j,
                                            bucket: platforms_1[(i + j) % 3],
                                            date: yesterday_1,
                                          })),
                                        ),
                                      ];
                                    case 1:
                                      _b.sent();
                                      return [2 /*return*/];
                                  }
                                });
                              };
                              i = 0;
                              _a.label = 1;
                            case 1:
                              if (!(i < ids_3)) return [3 /*break*/, 4];
                              return [5 /*yield**/, _loop_2(i)];
                            case 2:
                              _a.sent();
                              _a.label = 3;
                            case 3:
                              i += 100000;
                              return [3 /*break*/, 1];
                            case 4:
                              return [2 /*return*/];
                          }
                        });
                      }),
                    ),
                  ];
                case 1:
                  track = _j.sent();
                  return [4 /*yield*/, usage(client, 'bench:act-'.concat(mode, ':raw:*'))];
                case 2:
                  memoryUsage = _j.sent();
                  return [
                    4 /*yield*/,
                    (0, report_js_1.median)(1, () =>
                      tracker.collapse({
                        buckets: platforms_1,
                        aggregateBuckets: {
                          total: platforms_1,
                          mobile: ['ios', 'android'],
                          webAndroid: ['web', 'android'],
                        },
                      }),
                    ),
                  ];
                case 3:
                  collapse = _j.sent();
                  log({
                    scenario: '8. activity ('
                      .concat(mode, '): track ')
                      .concat(ids_3.toLocaleString('en-US'), ' ids; collapse a day with 3 aggregates'),
                    ours: ''
                      .concat((0, report_js_1.rate)(ids_3, track), ' track; ')
                      .concat((0, report_js_1.millis)(collapse), ' collapse'),
                    baseline: 'raw ids use '.concat((0, report_js_1.bytes)(memoryUsage)),
                    ratio: '—',
                    goal: 'report',
                    met: null,
                  });
                  return [2 /*return*/];
              }
            });
          };
          (_f = 0), (_g = ['exact', 'approximate']);
          _h.label = 32;
        case 32:
          if (!(_f < _g.length)) return [3 /*break*/, 35];
          mode = _g[_f];
          return [5 /*yield**/, _loop_1(mode)];
        case 33:
          _h.sent();
          _h.label = 34;
        case 34:
          _f++;
          return [3 /*break*/, 32];
        case 35:
          reads_2 = [];
          counting = __assign(__assign({}, backend), {
            name: 'redis',
            read: (o) => (reads_2.push(1), backend.read(o)),
            write: (o, w) => backend.write(o, w),
            supports: (f) => backend.supports(f),
            keys: () => backend.keys(),
            close: () => backend.close(),
          });
          lookupTracker_1 = new activity_1.ActivityTracker(counting, { prefix: 'act-exact', now: now });
          return [
            4 /*yield*/,
            (0, report_js_1.median)(5, () => lookupTracker_1.lookupDaily({ buckets: platforms_1 })),
          ];
        case 36:
          lookup = _h.sent();
          log({
            scenario: '8. activity: lookupDaily of 365 days',
            ours: ''
              .concat((0, report_js_1.millis)(lookup), ', ')
              .concat(reads_2.length / 5, ' round trip per lookup'),
            baseline: '—',
            ratio: '—',
            goal: 'one round trip',
            met: reads_2.length / 5 === 1,
          });
          return [4 /*yield*/, flush(client)];
        case 37:
          _h.sent();
          events = new events_1.Events(backend, { resolutions: ['day'], now: now });
          return [
            4 /*yield*/,
            events.eventMany(Array.from({ length: 1000000 }, (_, id) => ({ name: 'dense', id: id }))),
          ];
        case 38:
          _h.sent();
          return [4 /*yield*/, usage(client, 'bench:events:e:dense:*')];
        case 39:
          dense = _h.sent();
          sparseIds = Array.from({ length: 1000 }, () => Math.floor(random() * 2 ** 32));
          return [4 /*yield*/, events.eventMany(sparseIds.map((id) => ({ name: 'sparse', id: id })))];
        case 40:
          _h.sent();
          return [4 /*yield*/, usage(client, 'bench:events:e:sparse:*')];
        case 41:
          sparse = _h.sent();
          log({
            scenario: '9. memory: events, 1M dense users in one day bucket',
            ours: (0, report_js_1.bytes)(dense),
            baseline: '128 KiB (plain 1M-bit string)',
            ratio: ''.concat((dense / (128 * 1024)).toFixed(2), '\u00D7'),
            goal: 'report',
            met: null,
          });
          log({
            scenario: '9. memory: events, 1k ids spread up to 2^32 in one bucket',
            ours: (0, report_js_1.bytes)(sparse),
            baseline: '512 MiB (plain bitmap up to 2^32)',
            ratio: '—',
            goal: '< 1 MiB',
            met: sparse < 2 ** 20,
          });
          return [4 /*yield*/, flush(client)];
        case 42:
          _h.sent();
          return [3 /*break*/, 45];
        case 43:
          return [4 /*yield*/, client.quit()];
        case 44:
          _h.sent();
          server.stop();
          return [7 /*endfinally*/];
        case 45:
          text = (0, report_js_1.markdown)(rows, {
            redis: server.version.split(' ').slice(0, 3).join(' '),
            quick: quick,
            seconds: (performance.now() - started) / 1000,
          });
          console.log('\n'.concat(text));
          if (!quick) (0, report_js_1.write)(new URL('../RESULTS.md', import.meta.url).pathname, text);
          return [2 /*return*/];
      }
    });
  });
}
function usage(client, pattern) {
  return __awaiter(this, void 0, void 0, function () {
    var total, cursor, _a, next, keys, _i, keys_1, key, _b;
    var _c;
    return __generator(this, (_d) => {
      switch (_d.label) {
        case 0:
          total = 0;
          cursor = '0';
          _d.label = 1;
        case 1:
          return [4 /*yield*/, client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)];
        case 2:
          (_a = _d.sent()), (next = _a[0]), (keys = _a[1]);
          cursor = next;
          (_i = 0), (keys_1 = keys);
          _d.label = 3;
        case 3:
          if (!(_i < keys_1.length)) return [3 /*break*/, 6];
          key = keys_1[_i];
          _b = total;
          return [4 /*yield*/, client.memory('USAGE', key)];
        case 4:
          total = _b + ((_c = _d.sent()) !== null && _c !== void 0 ? _c : 0);
          _d.label = 5;
        case 5:
          _i++;
          return [3 /*break*/, 3];
        case 6:
          if (cursor !== '0') return [3 /*break*/, 1];
          _d.label = 7;
        case 7:
          return [2 /*return*/, total];
      }
    });
  });
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
