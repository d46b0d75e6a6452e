-- wrk script for the HTTP bench cases: every request is the next path of a
-- file (one per line; each thread starts at its own offset), with
-- Accept-Encoding: gzip as a browser sends it; a thread stops after its share
-- of the requests, so the run's duration measures throughput.
-- Usage: wrk -t T -c C -d 600s -s wrk-paths.lua URL -- PATHS-FILE REQUESTS-PER-THREAD
local counter = 0
function setup(thread)
	thread:set("id", counter)
	counter = counter + 1
end

local paths, i, n, done = {}, 0, 0, 0
function init(args)
	for line in io.lines(args[1]) do
		paths[#paths + 1] = line
	end
	n = tonumber(args[2]) or 50000
	i = (tonumber(id) or 0) * 7919 % #paths
end

function request()
	i = i % #paths + 1
	return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end

function response(status, headers, body)
	done = done + 1
	if done >= n then
		wrk.thread:stop()
	end
end
