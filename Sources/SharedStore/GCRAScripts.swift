/// The exact GCRA of `BucketState` as Lua scripts that run inside Redis, one per operation.
///
/// ## Representation (why no Lua float ever holds the state)
/// Redis' Lua numbers are doubles: integers are exact only below 2^53 (about 9.0e15), and
/// nanoseconds since 1970 (1.8e18) are already beyond that. So every integer is held as a pair
/// `(h, l)` = `h × 10^9 + l` with `0 ≤ l < 10^9` and `h < 2^53` (both exact doubles; a sum of
/// two `l` stays below 2^53), exact up to 9 × 10^24, passed between functions as multiple
/// values (no table is allocated per operation) and stored in Redis as decimal strings. The
/// scripts only add, subtract and compare; every multiplication and division is done once in
/// Swift with 128-bit integers and passed in:
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
/// Ranges: instants and amounts up to 9 × 10^24 ns (2.8 × 10^8 years); `p`, `q` as `Rate` allows (below 10^18);
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

-- Integers are pairs (h, l) = h * 10^9 + l, 0 <= l < 10^9, h < 2^53: exact to 9e24, and passed
-- as multiple values, so arithmetic allocates nothing.
local function N(s)
  if s == nil or s == false or s == '' then return 0, 0 end
  local n = #s
  if n <= 9 then return 0, tonumber(s) end
  return tonumber(string.sub(s, 1, n - 9)), tonumber(string.sub(s, n - 8))
end

local function S(h, l)
  if h > 0 then return string.format('%d%09d', h, l) end
  return string.format('%d', l)
end

local function add(ah, al, bh, bl)
  local l = al + bl
  if l >= B then return ah + bh + 1, l - B end
  return ah + bh, l
end

local function cmp(ah, al, bh, bl)
  if ah ~= bh then if ah < bh then return -1 end return 1 end
  if al ~= bl then if al < bl then return -1 end return 1 end
  return 0
end

-- a - b, or zero when b > a (times are >= 0, so zero is "full since forever" for a tat).
local function sub(ah, al, bh, bl)
  if cmp(ah, al, bh, bl) <= 0 then return 0, 0 end
  local l = al - bl
  if l < 0 then return ah - bh - 1, l + B end
  return ah - bh, l
end

local function maxi(ah, al, bh, bl)
  if cmp(ah, al, bh, bl) >= 0 then return ah, al end
  return bh, bl
end

local function toDouble(h, l) return h * 1e9 + l end

local function fromDouble(x)
  if x <= 0 then return 0, 0 end
  local h = math.floor(x / 1e9)
  local l = math.floor(x - h * 1e9)
  if l >= B then l = B - 1 end
  if l < 0 then l = 0 end
  return h, l
end

-- Mixed numbers of ns: whole (wh, wl) + fraction (fh, fl) / p, with 0 <= fraction < p.
local P_H, P_L = 0, 1

local function madd(awh, awl, afh, afl, bwh, bwl, bfh, bfl)
  local wh, wl = add(awh, awl, bwh, bwl)
  local fh, fl = add(afh, afl, bfh, bfl)
  if cmp(fh, fl, P_H, P_L) >= 0 then
    fh, fl = sub(fh, fl, P_H, P_L)
    wh, wl = add(wh, wl, 0, 1)
  end
  return wh, wl, fh, fl
end

local function mcmp(awh, awl, afh, afl, bwh, bwl, bfh, bfl)
  local c = cmp(awh, awl, bwh, bwl)
  if c ~= 0 then return c end
  return cmp(afh, afl, bfh, bfl)
end

-- a - b, or zero when b > a.
local function msub(awh, awl, afh, afl, bwh, bwl, bfh, bfl)
  if mcmp(awh, awl, afh, afl, bwh, bwl, bfh, bfl) <= 0 then return 0, 0, 0, 0 end
  local wh, wl = sub(awh, awl, bwh, bwl)
  if cmp(afh, afl, bfh, bfl) >= 0 then
    local fh, fl = sub(afh, afl, bfh, bfl)
    return wh, wl, fh, fl
  end
  local xh, xl = add(afh, afl, P_H, P_L)
  local fh, fl = sub(xh, xl, bfh, bfl)
  wh, wl = sub(wh, wl, 0, 1)
  return wh, wl, fh, fl
end

local function mmax(awh, awl, afh, afl, bwh, bwl, bfh, bfl)
  if mcmp(awh, awl, afh, afl, bwh, bwl, bfh, bfl) >= 0 then return awh, awl, afh, afl end
  return bwh, bwl, bfh, bfl
end

-- ceil(a), for a >= 0
local function mceil(wh, wl, fh, fl)
  if fh == 0 and fl == 0 then return wh, wl end
  return add(wh, wl, 0, 1)
end

-- The clock: explicit ns for tests, else the server's TIME.
local explicit = ARGV[1] ~= ''
local NOW_H, NOW_L
if explicit then
  NOW_H, NOW_L = N(ARGV[1])
else
  local t = redis.call('TIME')
  NOW_H, NOW_L = tonumber(t[1]), tonumber(t[2]) * 1000
end

local function split(v)
  local out, i = {}, 1
  while true do
    local j = string.find(v, ',', i, true)
    if not j then out[#out + 1] = string.sub(v, i); return out end
    out[#out + 1] = string.sub(v, i, j - 1)
    i = j + 1
  end
end

-- One limit's configuration from ARGV starting at i: p, q, capacity units, burst (w, f).
-- Sets the modulus p of the mixed-number functions.
local function config(i)
  local c = {sig = ARGV[i] .. '/' .. ARGV[i + 1] .. '/' .. ARGV[i + 2],
             pd = tonumber(ARGV[i]), qd = tonumber(ARGV[i + 1]), capd = tonumber(ARGV[i + 2])}
  c.ph, c.pl = N(ARGV[i])
  c.bwh, c.bwl = N(ARGV[i + 3])
  c.bfh, c.bfl = N(ARGV[i + 4])
  return c
end

local function use(c) P_H, P_L = c.ph, c.pl end

-- The bucket at `key` under configuration `c` (a missing key is a full bucket). Fields:
-- tat (hasTat; twh, twl, tfh, tfl), la (hasLa; lah, lal: the FIFO floor), t (th, tl: now, never
-- before the latest time seen), reserved (rwh, rwl, rfh, rfl), to (hasTo; toh, tol), ep.
local function load(key, c)
  use(c)
  local v = redis.call('GET', key)
  local s = {key = key, c = c, exists = v ~= false, ep = 0}
  s.th, s.tl = NOW_H, NOW_L
  s.rwh, s.rwl, s.rfh, s.rfl = 0, 0, 0, 0
  if not v then return s end
  local h = split(v)
  if h[1] ~= '' then
    s.hasTat = true
    s.twh, s.twl = N(h[1]); s.tfh, s.tfl = N(h[2])
  end
  if h[3] ~= '' then s.hasLa = true; s.lah, s.lal = N(h[3]) end
  s.th, s.tl = maxi(NOW_H, NOW_L, N(h[4]))
  s.rwh, s.rwl = N(h[5]); s.rfh, s.rfl = N(h[6])
  if h[7] ~= '' then s.hasTo = true; s.toh, s.tol = N(h[7]) end
  s.ep = tonumber(h[8])
  if h[9] ~= c.sig then
    -- Reconfigured: keep the level at the takeover instant (the latest promise, or now),
    -- capped at the new capacity, converted once in floating point.
    local o = {}
    for x in string.gmatch(h[9], '[^/]+') do o[#o + 1] = tonumber(x) end
    local kh, kl = s.th, s.tl
    if s.hasLa then kh, kl = maxi(kh, kl, s.lah, s.lal) end
    local deficit = 0
    if s.hasTat then
      P_H, P_L = N(string.match(h[9], '^[^/]+'))
      local dwh, dwl, dfh, dfl = msub(s.twh, s.twl, s.tfh, s.tfl, kh, kl, 0, 0)
      deficit = toDouble(dwh, dwl) + toDouble(dfh, dfl) / o[1]
      use(c)
    end
    local missingNew = c.capd - o[3] + deficit * o[1] / o[2]
    if missingNew < 0 then missingNew = 0 end
    local ns = missingNew * c.qd / c.pd
    local w = math.floor(ns)
    local f = math.floor((ns - w) * c.pd)
    if f >= c.pd then f = c.pd - 1 end
    if f < 0 then f = 0 end
    local wh, wl = fromDouble(w)
    local fh, fl = fromDouble(f)
    s.hasTat = true
    s.twh, s.twl, s.tfh, s.tfl = madd(kh, kl, 0, 0, wh, wl, fh, fl)
    s.hasTo = true; s.toh, s.tol = kh, kl
    s.ep = s.ep + 1
    s.reconfigured = true
    s.rwh, s.rwl, s.rfh, s.rfl = 0, 0, 0, 0
  end
  return s
end

-- Writes the bucket back, or deletes it when full and idle; returns the TTL in ms as text
-- ('0': deleted).
local function store(s)
  use(s.c)
  local full = not s.hasTat or mcmp(s.twh, s.twl, s.tfh, s.tfl, s.th, s.tl, 0, 0) <= 0
  local idle = not s.hasLa or cmp(s.lah, s.lal, s.th, s.tl) <= 0
  if full and idle then
    redis.call('DEL', s.key)
    return '0'
  end
  local fh, fl = s.th, s.tl
  if s.hasTat then fh, fl = maxi(s.th, s.tl, mceil(s.twh, s.twl, s.tfh, s.tfl)) end
  -- Capped at 10^15 ms (31,000 years) and formatted as an integer (Lua would print 1e+15).
  local ttl = string.format('%d', math.min(math.floor(toDouble(sub(fh, fl, s.th, s.tl)) / 1e6) + 1, 1e15))
  local tw, tf, la, to = '', '', '', ''
  if s.hasTat then tw = S(s.twh, s.twl); tf = S(s.tfh, s.tfl) end
  if s.hasLa then la = S(s.lah, s.lal) end
  if s.hasTo then to = S(s.toh, s.tol) end
  local value = table.concat({tw, tf, la, S(s.th, s.tl), S(s.rwh, s.rwl), S(s.rfh, s.rfl), to, tostring(s.ep), s.c.sig}, ',')
  if explicit then
    redis.call('SET', s.key, value)
  else
    redis.call('SET', s.key, value, 'PX', ttl)
  end
  return ttl
end

-- ceil(tat - burst), at least `start` (sh, sl): the admission of the latest reservation.
local function admission(s, sh, sl)
  local c = s.c
  if mcmp(s.twh, s.twl, s.tfh, s.tfl, c.bwh, c.bwl, c.bfh, c.bfl) <= 0 then return sh, sl end
  local ah, al = mceil(msub(s.twh, s.twl, s.tfh, s.tfl, c.bwh, c.bwl, c.bfh, c.bfl))
  return maxi(ah, al, sh, sl)
end

-- The instant a reservation of cost (mixed) would start: max(t, notBefore, la).
local function startOf(s, nbh, nbl)
  local h, l = maxi(s.th, s.tl, nbh, nbl)
  if s.hasLa then h, l = maxi(h, l, s.lah, s.lal) end
  return h, l
end

-- BucketState.admissionTime(units:at:notBefore:) for a cost (mixed, scaled); no change.
local function admissionTime(s, cwh, cwl, cfh, cfl)
  use(s.c)
  local sh, sl = startOf(s, 0, 0)
  local wh, wl, fh, fl = sh, sl, 0, 0
  if s.hasTat then wh, wl, fh, fl = mmax(s.twh, s.twl, s.tfh, s.tfl, sh, sl, 0, 0) end
  wh, wl, fh, fl = madd(wh, wl, fh, fl, cwh, cwl, cfh, cfl)
  local c = s.c
  if mcmp(wh, wl, fh, fl, c.bwh, c.bwl, c.bfh, c.bfl) <= 0 then return sh, sl end
  local ah, al = mceil(msub(wh, wl, fh, fl, c.bwh, c.bwl, c.bfh, c.bfl))
  return maxi(ah, al, sh, sl)
end

-- How far the bucket is below full at its time t: tat - t (mixed ns), zero when full.
local function deficit(s)
  use(s.c)
  if not s.hasTat then return 0, 0, 0, 0 end
  return msub(s.twh, s.twl, s.tfh, s.tfl, s.th, s.tl, 0, 0)
end
"""#

    /// Admission of one request against every one of its limits, all or nothing.
    ///
    /// `ARGV`: now (empty for `TIME`), the longest acceptable wait in ns (`-1`: any), then per
    /// key: p, q, capacity (nano-tokens), burst w, burst f, cost w, cost f.
    /// Reply: `{"ok", now, admit, per key: reservedThrough w, f, floorBefore, gap w, gap f,
    /// epoch, ttl ms, deficit w, deficit f}`; `{"wait", now, admit, index of the key admitting
    /// last, per key: deficit w, deficit f}` when the admission is further than the wait allows
    /// (nothing taken); `{"never", now, key index}` when a cost exceeds a capacity. A deficit is
    /// how far the bucket is below full after the operation (mixed ns: tokens missing =
    /// deficit × p/q), so callers see every shared level without another round trip.
    public static let acquire = prelude + "\n" + #"""
local maxWait = ARGV[2]
local n = #KEYS
local buckets, costs = {}, {}
for k = 1, n do
  local i = 3 + (k - 1) * 7
  local c = config(i)
  local cwh, cwl = N(ARGV[i + 5])
  local cfh, cfl = N(ARGV[i + 6])
  costs[k] = {cwh, cwl, cfh, cfl}
  if mcmp(cwh, cwl, cfh, cfl, c.bwh, c.bwl, c.bfh, c.bfl) > 0 then return {'never', S(NOW_H, NOW_L), tostring(k)} end
  buckets[k] = load(KEYS[k], c)
end
-- The first instant every bucket admits its cost, counted from the latest time any has seen.
local ah, al, bh, bl = NOW_H, NOW_L, NOW_H, NOW_L
local binding = 1
for k = 1, n do
  local s, cost = buckets[k], costs[k]
  local xh, xl = admissionTime(s, cost[1], cost[2], cost[3], cost[4])
  if cmp(xh, xl, ah, al) > 0 then binding = k end
  ah, al = maxi(ah, al, xh, xl)
  bh, bl = maxi(bh, bl, s.th, s.tl)
end
if maxWait ~= '-1' then
  local wh, wl = sub(ah, al, bh, bl)
  if cmp(wh, wl, N(maxWait)) > 0 then
    local reply = {'wait', S(NOW_H, NOW_L), S(ah, al), tostring(binding)}
    for k = 1, n do
      -- A reconfiguration takes over now, refused or not: otherwise the old refill would go
      -- on deciding until the first admission.
      if buckets[k].reconfigured then store(buckets[k]) end
      local dwh, dwl, dfh, dfl = deficit(buckets[k])
      reply[#reply + 1] = S(dwh, dwl)
      reply[#reply + 1] = S(dfh, dfl)
    end
    return reply
  end
end
local reply = {'ok', S(NOW_H, NOW_L), S(ah, al)}
for k = 1, n do
  -- BucketState.reserve(units:at:notBefore: admit)
  local s, cost = buckets[k], costs[k]
  use(s.c)
  local fb = ''
  if s.hasLa then fb = S(s.lah, s.lal) end
  local sh, sl = startOf(s, ah, al)
  local gapW, gapF = 'full', '0'
  local wh, wl, fh, fl = sh, sl, 0, 0
  if s.hasTat then
    local gwh, gwl, gfh, gfl = msub(sh, sl, 0, 0, s.twh, s.twl, s.tfh, s.tfl)
    gapW, gapF = S(gwh, gwl), S(gfh, gfl)
    wh, wl, fh, fl = mmax(s.twh, s.twl, s.tfh, s.tfl, sh, sl, 0, 0)
  end
  s.hasTat = true
  s.twh, s.twl, s.tfh, s.tfl = madd(wh, wl, fh, fl, cost[1], cost[2], cost[3], cost[4])
  s.hasLa = true
  s.lah, s.lal = admission(s, sh, sl)
  s.rwh, s.rwl, s.rfh, s.rfl = madd(s.rwh, s.rwl, s.rfh, s.rfl, cost[1], cost[2], cost[3], cost[4])
  local ttl = store(s)
  local dwh, dwl, dfh, dfl = deficit(s)
  for _, v in ipairs({S(s.rwh, s.rwl), S(s.rfh, s.rfl), fb, gapW, gapF, tostring(s.ep), ttl, S(dwh, dwl), S(dfh, dfl)}) do
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
local reply = {S(NOW_H, NOW_L)}
for k = 1, #KEYS do
  local i = 2 + (k - 1) * 8
  local c = config(i)
  local awh, awl = N(ARGV[i + 6])
  local afh, afl = N(ARGV[i + 7])
  local s = load(KEYS[k], c)
  use(c)
  if ARGV[i + 5] == '+' then
    local wh, wl, fh, fl = s.th, s.tl, 0, 0
    if s.hasTat then wh, wl, fh, fl = mmax(s.twh, s.twl, s.tfh, s.tfl, s.th, s.tl, 0, 0) end
    s.hasTat = true
    s.twh, s.twl, s.tfh, s.tfl = madd(wh, wl, fh, fl, awh, awl, afh, afl)
  elseif s.hasTat then
    local wh, wl, fh, fl = msub(s.twh, s.twl, s.tfh, s.tfl, awh, awl, afh, afl)
    s.twh, s.twl, s.tfh, s.tfl = mmax(wh, wl, fh, fl, s.th, s.tl, 0, 0)
  end
  reply[#reply + 1] = store(s)
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
local reply = {S(NOW_H, NOW_L)}
for k = 1, #KEYS do
  local i = 2 + (k - 1) * 14
  local c = config(i)
  local backW, backF = '0', '0'
  local s = load(KEYS[k], c)
  use(c)
  if s.exists then
    local cwh, cwl = N(ARGV[i + 5])
    local cfh, cfl = N(ARGV[i + 6])
    local rwh, rwl = N(ARGV[i + 7])
    local rfh, rfl = N(ARGV[i + 8])
    local epoch = tonumber(ARGV[i + 12])
    local admitH, admitL = N(ARGV[i + 13])
    -- Reservations from before a reconfiguration are not rolled back (the scale changed):
    -- keeping their tokens never admits more than the limit.
    if s.ep == epoch and cmp(admitH, admitL, s.th, s.tl) >= 0
       and mcmp(rwh, rwl, rfh, rfl, s.rwh, s.rwl, s.rfh, s.rfl) <= 0 then
      local lwh, lwl, lfh, lfl = msub(s.rwh, s.rwl, s.rfh, s.rfl, rwh, rwl, rfh, rfl)
      if mcmp(cwh, cwl, cfh, cfl, lwh, lwl, lfh, lfl) > 0 then
        local bwh, bwl, bfh, bfl = msub(cwh, cwl, cfh, cfl, lwh, lwl, lfh, lfl)
        if lwh == 0 and lwl == 0 and lfh == 0 and lfl == 0 then
          -- The tail: roll back completely, FIFO floor included.
          s.rwh, s.rwl, s.rfh, s.rfl = msub(s.rwh, s.rwl, s.rfh, s.rfl, cwh, cwl, cfh, cfl)
          s.hasLa = ARGV[i + 9] ~= '' or s.hasTo
          if s.hasLa then
            s.lah, s.lal = N(ARGV[i + 9])
            if s.hasTo then s.lah, s.lal = maxi(s.lah, s.lal, s.toh, s.tol) end
          end
          if ARGV[i + 10] == 'full' then
            s.hasTat = false
          elseif s.hasTat then
            local gwh, gwl = N(ARGV[i + 10])
            local gfh, gfl = N(ARGV[i + 11])
            s.twh, s.twl, s.tfh, s.tfl = msub(s.twh, s.twl, s.tfh, s.tfl, gwh, gwl, gfh, gfl)
          end
        end
        if s.hasTat then
          s.twh, s.twl, s.tfh, s.tfl = msub(s.twh, s.twl, s.tfh, s.tfl, bwh, bwl, bfh, bfl)
        end
        backW, backF = S(bwh, bwl), S(bfh, bfl)
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
local reply = {S(NOW_H, NOW_L)}
for k = 1, #KEYS do
  local c = config(2 + (k - 1) * 5)
  local s = load(KEYS[k], c)
  use(c)
  local wh, wl, fh, fl = 0, 0, 0, 0
  if s.hasTat then wh, wl, fh, fl = msub(s.twh, s.twl, s.tfh, s.tfl, s.th, s.tl, 0, 0) end
  reply[#reply + 1] = S(wh, wl)
  reply[#reply + 1] = S(fh, fl)
  if s.hasLa then reply[#reply + 1] = S(s.lah, s.lal) else reply[#reply + 1] = '' end
end
return reply
"""#
}
