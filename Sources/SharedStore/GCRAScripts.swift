/// The exact GCRA of `BucketState` as Lua scripts that run inside Redis, one per operation.
///
/// ## Representation (why no Lua float ever holds the state)
/// Redis' Lua numbers are doubles: integers are exact only below 2^53 (about 9.0e15), and
/// nanoseconds since 1970 (1.8e18) are already beyond that. So every integer is held as three
/// base-10^9 limbs (`{low, middle, high}`, each below 10^9: sums of two limbs stay below 2^53),
/// exact up to 10^27 − 1, stored in Redis as decimal strings. The scripts only add, subtract
/// and compare limbs; every multiplication and division is done once in Swift with 128-bit
/// integers and passed in:
///
/// - the refill is the exact fraction `p/q` tokens per second, amounts are nano-tokens, and one
///   nano-token takes exactly `q/p` ns, as in `BucketState`;
/// - an instant (the theoretical full time `tat`, and cumulative reserved cost) is a *mixed
///   number* of nanoseconds `w + f/p` with `0 ≤ f < p`: `tat × p = w × p + f` exactly, which
///   is `BucketState`'s 128-bit `tat × p`;
/// - a cost of `c` nano-tokens is passed as `divmod(c × q, p)`, the burst as
///   `divmod(capacity × q, p)`;
/// - an admission instant is `ceil(tat − burst)`: with both mixed it is `w_t − w_b`, plus one
///   when `f_t > f_b`, so no division happens in Lua.
///
/// Ranges: instants up to 10^27 ns (3 × 10^10 years); `p`, `q` as `Rate` allows (below 10^18);
/// capacity as `BucketConfiguration` allows (10^18 nano-tokens); times must be ≥ 0 ns. The one
/// inexact step is a configuration change of an existing key (another `p/q` or capacity): the
/// level is converted once in floating point (error well under a microsecond of refill for
/// deficits below a day), like `BucketState.reconfigure`'s single rounding.
///
/// ## Keys
/// One string per bucket, comma-separated (one `GET` and one `SET … PX` per admission): tat
/// (whole, fraction), latest admission (the FIFO floor), latest time seen, cost reserved so far
/// (scaled, whole and fraction, for cancellation), takeover instant of the last
/// reconfiguration, reconfigurations, configuration signature `p/q/capacity`; empty = none. A key whose bucket is full and idle is deleted; otherwise it
/// expires when the bucket is full again, so idle keys vanish without changing any outcome.
///
/// ## Time
/// `ARGV[1]` empty: `TIME` on the Redis server, one clock for every replica (production).
/// `ARGV[1]` a decimal number of ns: that instant (tests replaying traces). Expiry is then not
/// set, since Redis would expire keys in its own time; the TTL is still computed and returned.
public enum GCRAScripts {
    /// Limb and mixed-number arithmetic, state load/store and the bucket operations shared by
    /// every script.
    public static let prelude = #"""
local B = 1000000000
local ZERO = {0, 0, 0}
local ONE = {1, 0, 0}

local function N(s)
  local n = {0, 0, 0}
  local e = #s
  local i = 1
  while e > 0 and i <= 3 do
    local b = e - 8
    if b < 1 then b = 1 end
    n[i] = tonumber(string.sub(s, b, e))
    e = b - 1
    i = i + 1
  end
  return n
end

local function S(n)
  if n[3] > 0 then return string.format('%d%09d%09d', n[3], n[2], n[1]) end
  if n[2] > 0 then return string.format('%d%09d', n[2], n[1]) end
  return string.format('%d', n[1])
end

local function add(a, b)
  local c, carry = {0, 0, 0}, 0
  for i = 1, 3 do
    local s = a[i] + b[i] + carry
    if s >= B then c[i] = s - B; carry = 1 else c[i] = s; carry = 0 end
  end
  return c
end

local function cmp(a, b)
  for i = 3, 1, -1 do
    if a[i] ~= b[i] then if a[i] < b[i] then return -1 else return 1 end end
  end
  return 0
end

-- a - b, or zero when b > a (times are >= 0, so zero is "full since forever" for a tat).
local function sub(a, b)
  if cmp(a, b) <= 0 then return {0, 0, 0} end
  local c, borrow = {0, 0, 0}, 0
  for i = 1, 3 do
    local s = a[i] - b[i] - borrow
    if s < 0 then c[i] = s + B; borrow = 1 else c[i] = s; borrow = 0 end
  end
  return c
end

local function isZero(a) return a[1] == 0 and a[2] == 0 and a[3] == 0 end
local function toDouble(a) return a[1] + a[2] * 1e9 + a[3] * 1e18 end

local function fromDouble(x)
  if x <= 0 then return {0, 0, 0} end
  local h = math.floor(x / 1e18)
  local r = x - h * 1e18
  local m = math.floor(r / 1e9)
  local l = math.floor(r - m * 1e9)
  if l >= B then l = B - 1 end
  if l < 0 then l = 0 end
  if m >= B then m = B - 1 end
  return {l, m, h}
end

-- Mixed numbers of ns: {w = whole ns, f = fraction × p}, 0 <= f < p.
local function M(w, f) return {w = w, f = f} end
local function mtime(t) return {w = t, f = ZERO} end
local function madd(a, b, p)
  local w, f = add(a.w, b.w), add(a.f, b.f)
  if cmp(f, p) >= 0 then f = sub(f, p); w = add(w, ONE) end
  return {w = w, f = f}
end
local function mcmp(a, b)
  local c = cmp(a.w, b.w)
  if c ~= 0 then return c end
  return cmp(a.f, b.f)
end
-- a - b, or zero when b > a.
local function msub(a, b, p)
  if mcmp(a, b) <= 0 then return {w = {0, 0, 0}, f = {0, 0, 0}} end
  if cmp(a.f, b.f) >= 0 then return {w = sub(a.w, b.w), f = sub(a.f, b.f)} end
  return {w = sub(sub(a.w, b.w), ONE), f = sub(add(a.f, p), b.f)}
end
local function mmax(a, b) if mcmp(a, b) >= 0 then return a end return b end
local function tmax(a, b)
  if a == nil then return b end
  if b == nil then return a end
  if cmp(a, b) >= 0 then return a end
  return b
end
-- ceil(a), for a >= 0
local function mceil(a) if isZero(a.f) then return a.w end return add(a.w, ONE) end
-- ceil(tat - burst) (admission of the latest reservation), or nil when not above `floor`.
local function admission(tat, burst, start, p)
  local d = msub(tat, burst, p)
  local a = mceil(d)
  if mcmp(tat, burst) <= 0 then return start end
  return tmax(a, start)
end

-- The clock: explicit ns for tests, else the server's TIME.
local explicit = ARGV[1] ~= ''
local now
if explicit then
  now = N(ARGV[1])
else
  local t = redis.call('TIME')
  local sec = tonumber(t[1])
  now = {tonumber(t[2]) * 1000, sec % B, math.floor(sec / B)}
end

-- One limit's configuration from ARGV starting at i: p, q, capacity units, burst (w, f).
local function config(i)
  return {
    sig = ARGV[i] .. '/' .. ARGV[i + 1] .. '/' .. ARGV[i + 2],
    p = N(ARGV[i]), pd = tonumber(ARGV[i]), qd = tonumber(ARGV[i + 1]),
    capd = tonumber(ARGV[i + 2]),
    burst = M(N(ARGV[i + 3]), N(ARGV[i + 4])),
  }
end

local function opt(s) if s == false or s == nil or s == '' then return nil end return N(s) end

local function split(v)
  local out, i = {}, 1
  while true do
    local j = string.find(v, ',', i, true)
    if not j then out[#out + 1] = string.sub(v, i); return out end
    out[#out + 1] = string.sub(v, i, j - 1)
    i = j + 1
  end
end

-- The bucket at `key` under configuration `c` (a missing key is a full bucket).
local function load(key, c)
  local v = redis.call('GET', key)
  local h = {}
  if v then h = split(v) end
  local s = {key = key, c = c, exists = v ~= false}
  if h[1] and h[1] ~= '' then s.tat = M(N(h[1]), N(h[2])) end
  s.la = opt(h[3]); s.ls = opt(h[4])
  s.reserved = M(N(h[5] or '0'), N(h[6] or '0'))
  s.to = opt(h[7])
  s.ep = tonumber(h[8] or '0')
  s.t = tmax(now, s.ls)
  if h[9] and h[9] ~= c.sig then
    -- Reconfigured: keep the level at the takeover instant (the latest promise, or now),
    -- capped at the new capacity, converted once in floating point.
    local o = {}
    for x in string.gmatch(h[9], '[^/]+') do o[#o + 1] = tonumber(x) end
    local takeover = tmax(s.t, s.la)
    local deficit = 0
    if s.tat then
      local d = msub(s.tat, mtime(takeover), N(string.match(h[9], '^[^/]+')))
      deficit = toDouble(d.w) + toDouble(d.f) / o[1]
    end
    local missingOld = deficit * o[1] / o[2]
    local missingNew = c.capd - o[3] + missingOld
    if missingNew < 0 then missingNew = 0 end
    local ns = missingNew * c.qd / c.pd
    local w = math.floor(ns)
    local f = math.floor((ns - w) * c.pd)
    if f >= c.pd then f = c.pd - 1 end
    if f < 0 then f = 0 end
    s.tat = madd(mtime(takeover), M(fromDouble(w), fromDouble(f)), c.p)
    s.to = takeover
    s.ep = s.ep + 1
    s.reserved = M({0, 0, 0}, {0, 0, 0})
  end
  return s
end

-- Writes the bucket back, or deletes it when full and idle; returns the TTL in ms as text ('0': deleted).
local function store(s)
  local full = s.tat == nil or mcmp(s.tat, mtime(s.t)) <= 0
  local idle = s.la == nil or cmp(s.la, s.t) <= 0
  if full and idle then
    redis.call('DEL', s.key)
    return '0'
  end
  local fullAt = s.t
  if s.tat then fullAt = tmax(mceil(s.tat), s.t) end
  -- Capped at 10^15 ms (31,000 years) and formatted as an integer (Lua would print 1e+15).
  local ttl = string.format('%d', math.min(math.floor(toDouble(sub(fullAt, s.t)) / 1e6) + 1, 1e15))
  local tw, tf, la, to = '', '', '', ''
  if s.tat then tw = S(s.tat.w); tf = S(s.tat.f) end
  if s.la then la = S(s.la) end
  if s.to then to = S(s.to) end
  local value = table.concat({tw, tf, la, S(s.t), S(s.reserved.w), S(s.reserved.f), to, tostring(s.ep), s.c.sig}, ',')
  if explicit then
    redis.call('SET', s.key, value)
  else
    redis.call('SET', s.key, value, 'PX', ttl)
  end
  return ttl
end

-- BucketState.admissionTime(units:at:notBefore:) for cost `cost` (mixed, scaled).
local function admissionTime(s, cost, notBefore)
  local start = tmax(tmax(s.t, notBefore), s.la)
  local tat = mtime(start)
  if s.tat then tat = mmax(s.tat, tat) end
  return admission(madd(tat, cost, s.c.p), s.c.burst, start, s.c.p)
end
"""#

    /// Admission of one request against every one of its limits, all or nothing.
    ///
    /// `ARGV`: now (empty for `TIME`), the longest acceptable wait in ns (`-1`: any), then per
    /// key: p, q, capacity (nano-tokens), burst w, burst f, cost w, cost f.
    /// Reply: `{"ok", now, admit, per key: reservedThrough w, f, floorBefore, gap w, gap f,
    /// epoch, ttl ms}`; `{"wait", now, admit}` when the admission is further than the wait
    /// allows (nothing taken); `{"never", now, key index}` when a cost exceeds a capacity.
    public static let acquire = prelude + "\n" + #"""
local maxWait = ARGV[2]
local n = #KEYS
local buckets, costs = {}, {}
for k = 1, n do
  local i = 3 + (k - 1) * 7
  local c = config(i)
  costs[k] = M(N(ARGV[i + 5]), N(ARGV[i + 6]))
  if mcmp(costs[k], c.burst) > 0 then return {'never', S(now), tostring(k)} end
  buckets[k] = load(KEYS[k], c)
end
-- The first instant every bucket admits its cost, counted from the latest time any has seen.
local admit, base = now, now
for k = 1, n do
  admit = tmax(admit, admissionTime(buckets[k], costs[k], nil))
  base = tmax(base, buckets[k].t)
end
if maxWait ~= '-1' and cmp(sub(admit, base), N(maxWait)) > 0 then
  return {'wait', S(now), S(admit)}
end
local reply = {'ok', S(now), S(admit)}
for k = 1, n do
  local s, cost, p = buckets[k], costs[k], buckets[k].c.p
  -- BucketState.reserve(units:at:notBefore: admit)
  local floorBefore = s.la
  local start = tmax(tmax(s.t, admit), s.la)
  local startM = mtime(start)
  local gapW, gapF = 'full', '0'
  if s.tat then
    local gap = msub(startM, s.tat, p)
    gapW, gapF = S(gap.w), S(gap.f)
    s.tat = madd(mmax(s.tat, startM), cost, p)
  else
    s.tat = madd(startM, cost, p)
  end
  s.la = admission(s.tat, s.c.burst, start, p)
  s.reserved = madd(s.reserved, cost, p)
  local ttl = store(s)
  local fb = ''
  if floorBefore then fb = S(floorBefore) end
  for _, v in ipairs({S(s.reserved.w), S(s.reserved.f), fb, gapW, gapF, tostring(s.ep), tostring(ttl)}) do
    reply[#reply + 1] = v
  end
end
return reply
"""#

    /// Settles real usage against the estimate: refund (never above full, never moving `tat`
    /// below now) or charge (into debt).
    ///
    /// `ARGV`: now, then per key: p, q, capacity, burst w, burst f, `+` (charge) or `-`
    /// (refund), amount w, amount f. Reply: `{now, per key: ttl ms}`.
    public static let reconcile = prelude + "\n" + #"""
local reply = {S(now)}
for k = 1, #KEYS do
  local i = 2 + (k - 1) * 8
  local c = config(i)
  local amount = M(N(ARGV[i + 6]), N(ARGV[i + 7]))
  local s = load(KEYS[k], c)
  local t = mtime(s.t)
  if ARGV[i + 5] == '+' then
    local tat = t
    if s.tat then tat = mmax(s.tat, t) end
    s.tat = madd(tat, amount, c.p)
  elseif s.tat then
    s.tat = mmax(msub(s.tat, amount, c.p), t)
  end
  reply[#reply + 1] = tostring(store(s))
end
return reply
"""#

    /// Gives a reservation back with `BucketState.cancel`'s rule: all of it when it is the
    /// latest on the key (and its place in the FIFO order), otherwise its cost minus the cost
    /// reserved after it, when positive; nothing once admitted.
    ///
    /// `ARGV`: now, then per key: p, q, capacity, burst w, burst f, cost w, cost f,
    /// reservedThrough w, f, floorBefore, gap w, gap f, epoch, admit.
    /// Reply: `{now, per key: given back w, f (scaled)}`.
    public static let cancel = prelude + "\n" + #"""
local reply = {S(now)}
for k = 1, #KEYS do
  local i = 2 + (k - 1) * 14
  local c = config(i)
  local p = c.p
  local cost = M(N(ARGV[i + 5]), N(ARGV[i + 6]))
  local through = M(N(ARGV[i + 7]), N(ARGV[i + 8]))
  local floorBefore = opt(ARGV[i + 9])
  local epoch = tonumber(ARGV[i + 12])
  local admitAt = N(ARGV[i + 13])
  local backW, backF = '0', '0'
  local s = load(KEYS[k], c)
  if s.exists then
    -- Reservations from before a reconfiguration are not rolled back (the scale changed):
    -- keeping their tokens never admits more than the limit.
    if s.ep == epoch and cmp(admitAt, s.t) >= 0 and mcmp(through, s.reserved) <= 0 then
      local later = msub(s.reserved, through, p)
      if mcmp(cost, later) > 0 then
        local back = msub(cost, later, p)
        if isZero(later.w) and isZero(later.f) then
          s.reserved = msub(s.reserved, cost, p)
          s.la = tmax(floorBefore, s.to)
          if ARGV[i + 10] == 'full' then
            s.tat = nil
          elseif s.tat then
            s.tat = msub(s.tat, M(N(ARGV[i + 10]), N(ARGV[i + 11])), p)
          end
        end
        if s.tat then s.tat = msub(s.tat, back, p) end
        backW, backF = S(back.w), S(back.f)
      end
      store(s)
    end
  end
  reply[#reply + 1] = backW
  reply[#reply + 1] = backF
end
return reply
"""#

    /// Reads the buckets without changing them, for dashboards: per key the deficit below full
    /// (mixed ns: tokens missing = deficit × p/q) and the latest admission.
    ///
    /// `ARGV`: now, then per key: p, q, capacity, burst w, burst f.
    /// Reply: `{now, per key: deficit w, deficit f, latest admission or ""}`.
    public static let peek = prelude + "\n" + #"""
local reply = {S(now)}
for k = 1, #KEYS do
  local c = config(2 + (k - 1) * 5)
  local s = load(KEYS[k], c)
  local d = M({0, 0, 0}, {0, 0, 0})
  if s.tat then d = msub(s.tat, mtime(s.t), c.p) end
  reply[#reply + 1] = S(d.w)
  reply[#reply + 1] = S(d.f)
  if s.la then reply[#reply + 1] = S(s.la) else reply[#reply + 1] = '' end
end
return reply
"""#
}
