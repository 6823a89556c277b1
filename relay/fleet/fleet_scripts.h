#pragma once
// The Lua scripts fleet nodes and the CLI run with EVAL (docs/fleet.md).
// Each makes one multi-key change atomic inside Redis. Every variable part
// is a KEYS/ARGV element, never spliced into the script text.
namespace tw::fleet::fleet_scripts {

/// KEYS: keyring, channel. ARGV: expected version, yaml, rotated_at, origin.
/// Compare-and-set: writes only over the version the writer read, so two
/// writers (a lease holder and `turnwarden rotate`) never lose a secret.
/// Returns the new version, or -1 when the version moved.
inline constexpr const char* kKeyringCas = R"lua(
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
v = v + 1
redis.call('HSET', KEYS[1], 'yaml', ARGV[2], 'version', v, 'rotated_at', ARGV[3])
redis.call('PUBLISH', KEYS[2], 'keyring ' .. ARGV[4] .. ' ' .. v)
return v
)lua";

/// KEYS: lease. ARGV: node id, ttl ms. Takes the lease with SET NX PX, or
/// renews it when this node already holds it. 1: held, 0: someone else's.
inline constexpr const char* kLease = R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

/// KEYS: node hash, node set. ARGV: ttl ms, node id, field, value, ...
/// Replaces the node's record whole and sets its TTL.
inline constexpr const char* kNodeWrite = R"lua(
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
)lua";

/// KEYS: node set. ARGV: node key prefix. Every live node's id and record;
/// ids whose record has lapsed are dropped from the set.
inline constexpr const char* kFleetRead = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. id)
  if #h == 0 then redis.call('SREM', KEYS[1], id) else
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
return out
)lua";

/// ARGV: ban key pattern. Every live ban key and its remaining ms (bounded).
inline constexpr const char* kBanScan = R"lua(
local out = {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    local t = redis.call('PTTL', k)
    if t > 0 then
      out[#out + 1] = k
      out[#out + 1] = tostring(t)
    end
  end
until cursor == '0' or #out >= 32768
return out
)lua";

/// Deletes every key matching ARGV[1] (the ban keys of one IP, any port);
/// returns how many.
inline constexpr const char* kBanLift = R"lua(
local n = 0
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    n = n + redis.call('DEL', k)
  end
until cursor == '0'
return n
)lua";

/// KEYS: the window's volume hash. ARGV: ttl seconds, user, bytes, user, bytes...
/// Adds one node's charges to the fleet's per-user counts of a volume window
/// (quotas.bytes_per_user) and returns the new totals, in ARGV order.
inline constexpr const char* kVolumeAdd = R"lua(
local totals = {}
for i = 2, #ARGV, 2 do
  totals[#totals + 1] = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return totals
)lua";

}  // namespace tw::fleet::fleet_scripts
