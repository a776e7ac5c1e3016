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
exports.bytes = exports.millis = exports.rate = void 0;
exports.markdown = markdown;
exports.write = write;
exports.median = median;
/** One markdown table of results, printed and written to bench/RESULTS.md. */
var node_fs_1 = require('node:fs');
var node_os_1 = require('node:os');
function markdown(rows, context) {
  var _a, _b;
  var date = new Date().toISOString().slice(0, 10);
  var cpu =
    (_b = (_a = (0, node_os_1.cpus)()[0]) === null || _a === void 0 ? void 0 : _a.model) !== null &&
    _b !== void 0
      ? _b
      : 'unknown CPU';
  var header = [
    '# Porpoise benchmark results',
    '',
    'Measured '
      .concat(date, ' on ')
      .concat((0, node_os_1.cpus)().length, ' cores (')
      .concat(cpu, '), ')
      .concat(Math.round((0, node_os_1.totalmem)() / 2 ** 30), ' GiB, Node ')
      .concat(process.version, ', ')
      .concat(context.redis, ', loopback.'),
    'Mode: '
      .concat(context.quick ? 'quick (small sizes, proves the benchmarks run)' : 'full', '; took ')
      .concat(context.seconds.toFixed(0), ' s. Baselines are measured in the same run.'),
    '',
    '| scenario | Porpoise | baseline | ratio | goal | met |',
    '|---|---|---|---|---|---|',
  ];
  var body = rows.map((r) =>
    '| '
      .concat(r.scenario, ' | ')
      .concat(r.ours, ' | ')
      .concat(r.baseline, ' | ')
      .concat(r.ratio, ' | ')
      .concat(r.goal, ' | ')
      .concat(r.met === null ? '—' : r.met ? 'yes' : '**no**', ' |'),
  );
  return __spreadArray(__spreadArray(__spreadArray([], header, true), body, true), [''], false).join('\n');
}
function write(path, text) {
  (0, node_fs_1.writeFileSync)(path, text);
}
var rate = (n, ms) => ''.concat((((n / ms) * 1000) / 1e6).toFixed(2), ' M/s');
exports.rate = rate;
var millis = (ms) => ''.concat(ms.toFixed(ms < 10 ? 2 : 0), ' ms');
exports.millis = millis;
var bytes = (n) =>
  n >= 2 ** 20
    ? ''.concat((n / 2 ** 20).toFixed(2), ' MiB')
    : n >= 1024
      ? ''.concat((n / 1024).toFixed(1), ' KiB')
      : ''.concat(n, ' B');
exports.bytes = bytes;
function median(times, fn) {
  return __awaiter(this, void 0, void 0, function () {
    var samples, i, started;
    return __generator(this, (_a) => {
      switch (_a.label) {
        case 0:
          samples = [];
          i = 0;
          _a.label = 1;
        case 1:
          if (!(i < times)) return [3 /*break*/, 4];
          started = performance.now();
          return [4 /*yield*/, fn()];
        case 2:
          _a.sent();
          samples.push(performance.now() - started);
          _a.label = 3;
        case 3:
          i++;
          return [3 /*break*/, 1];
        case 4:
          samples.sort((a, b) => a - b);
          return [2 /*return*/, samples[Math.floor(samples.length / 2)]];
      }
    });
  });
}
