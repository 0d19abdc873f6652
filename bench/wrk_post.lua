-- wrk script: POST pre-signed bodies, each exactly once per run (no replays while they last).
-- BENCH_BODIES is a file of "<X-Twilio-Signature>\t<form body>" lines; thread n of
-- BENCH_THREADS takes every n-th line so no two threads send the same MessageSid.
local counter = 1

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS"))
   requests = {}
   local i = 0
   for line in io.lines(os.getenv("BENCH_BODIES")) do
      if i % nthreads == id - 1 then
         local signature, body = line:match("^([^\t]*)\t(.*)$")
         requests[#requests + 1] = wrk.format("POST", nil, {
            ["Content-Type"] = "application/x-www-form-urlencoded",
            ["X-Twilio-Signature"] = signature,
         }, body)
      end
      i = i + 1
   end
   index = 0
end

function request()
   index = index + 1
   if index > #requests then
      index = 1
   end
   return requests[index]
end
