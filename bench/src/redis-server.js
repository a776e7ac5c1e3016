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
Object.defineProperty(exports, '__esModule', { value: true });
exports.startRedis = startRedis;
/** A throwaway redis-server on a free loopback port, for the benchmarks only. */
var node_child_process_1 = require('node:child_process');
var node_fs_1 = require('node:fs');
var node_net_1 = require('node:net');
var node_os_1 = require('node:os');
var node_path_1 = require('node:path');
function freePort() {
  return __awaiter(this, void 0, void 0, function () {
    return __generator(this, (_a) => [
      2 /*return*/,
      new Promise((resolve, reject) => {
        var server = (0, node_net_1.createServer)();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          var port = server.address().port;
          server.close(() => resolve(port));
        });
      }),
    ]);
  });
}
function startRedis() {
  return __awaiter(this, void 0, void 0, function () {
    var port, dir, child, i, version;
    return __generator(this, (_a) => {
      switch (_a.label) {
        case 0:
          return [4 /*yield*/, freePort()];
        case 1:
          port = _a.sent();
          dir = (0, node_fs_1.mkdtempSync)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'porpoise-bench-'));
          child = (0, node_child_process_1.spawn)(
            'redis-server',
            ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
            { stdio: 'ignore' },
          );
          i = 0;
          _a.label = 2;
        case 2:
          if (!(i < 200)) return [3 /*break*/, 5];
          try {
            if (
              (0, node_child_process_1.execFileSync)('redis-cli', ['-p', String(port), 'PING'], {
                encoding: 'utf8',
                stdio: ['ignore', 'pipe', 'ignore'],
              }).trim() === 'PONG'
            )
              return [3 /*break*/, 5];
          } catch (_b) {
            // starting
          }
          return [4 /*yield*/, new Promise((r) => setTimeout(r, 25))];
        case 3:
          _a.sent();
          _a.label = 4;
        case 4:
          i++;
          return [3 /*break*/, 2];
        case 5:
          version = (0, node_child_process_1.execFileSync)('redis-server', ['--version'], {
            encoding: 'utf8',
          }).trim();
          return [
            2 /*return*/,
            {
              url: 'redis://127.0.0.1:'.concat(port),
              version: version,
              stop: () => {
                child.kill('SIGKILL');
                (0, node_fs_1.rmSync)(dir, { recursive: true, force: true });
              },
            },
          ];
      }
    });
  });
}
