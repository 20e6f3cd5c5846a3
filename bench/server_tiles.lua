-- wrk script of bench/server.sh: requests the tile paths listed in a file
-- (one a line, argument 1), each thread from its own offset, round robin.
local paths = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
