#!/usr/bin/env bash
# The HTTP/JSON API (swineherd-api, #21) against a real Shepherd and real
# containers: upstream's /api routes with their JSON shapes field by field,
# v1 with its status codes and every reply validated against
# doc/api/openapi.json, the Unix socket's mode, TCP with its bearer token,
# malformed and hostile requests answered 4xx while Shepherd keeps serving,
# slow clients cut off, concurrent launches.  Two clients: curl, and raw
# HTTP written through socat.  Results are checked independently: herd,
# /proc, ip.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
export api_socket=/run/swineherd/api.sock
openapi=$top/doc/api/openapi.json
json() { "$top"/tests/api/json "$@"; }
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$token" > "$work/token"
tcp_port=8421

# Upstream launches only /gnu/store/…-run-container scripts: make one (the
# sandbox's root is an overlay on a tmpfs; nothing reaches the cache).
mkdir -p /gnu/store
make_container_script /gnu/store/0123456789abcdef-os >/dev/null
store_script=/gnu/store/0123456789abcdef-swine-run-container
ln -s /gnu/store/0123456789abcdef-os/run-container "$store_script"
script=$(make_container_script "$work/script")

cat > "$work/config.scm" <<EOF
(add-to-load-path "$top/scheme")
(use-modules (swineherd) (swineherd api))
(register-services
 (list (swineherd-service)
       (swineherd-api-service (swineherd-configuration)
                              (api-configuration
                               #:tcp-address "127.0.0.1" #:tcp-port $tcp_port
                               #:token-file "$work/token"
                               #:permitted-command-prefix "/bin/"
                               #:read-timeout 2))))
(start-service (lookup-service 'swineherd))
(start-service (lookup-service 'swineherd-api))
EOF
start_shepherd "$work/config.scm"

# call METHOD PATH [BODY]: a request with curl on the Unix socket; the
# status code is printed, the body left in $work/body.
call() {
  local data=()
  [ $# -lt 3 ] || data=(-H 'Content-Type: application/json' --data-binary "$3")
  curl -sS --unix-socket "$api_socket" -o "$work/body" -w '%{http_code}' \
    -X "$1" "${data[@]}" "http://localhost$2"
}
# answers CODE METHOD PATH [BODY]: the request gets CODE.
answers() {
  local code=$1 got; shift
  got=$(call "$@")
  [ "$got" = "$code" ] || { echo "  $1 $2: got $got, body: $(head -c 300 "$work/body")"; return 1; }
}
# valid METHOD TEMPLATE CODE: the last body matches the OpenAPI document.
valid() { json validate "$openapi" "$work/body" "$@"; }
# field_is VALUE KEY...: a field of the last body.
field_is() {
  local want=$1 got; shift
  got=$(json get "$work/body" "$@") || { echo "  body: $(head -c 300 "$work/body")"; return 1; }
  [ "$got" = "$want" ] || { echo "  $*: got '$got', want '$want'"; return 1; }
}
# raw TEXT: send TEXT as is on the Unix socket with socat, print the reply.
raw() { printf "$1" | socat -t 5 - UNIX-CONNECT:"$api_socket"; }
status_of() { head -n 1 | cut -d' ' -f2; }

### The pure modules' unit tests (plain Guile, no Shepherd).
check "unit tests of (swineherd api-http) and (swineherd api-metrics)" \
  bash -c "guile --no-auto-compile -L $top/scheme $top/tests/api/unit.scm >$work/unit.out 2>&1 || { grep -E 'FAIL|unexpected' $work/unit.out; exit 1; }"

### The service and its socket.
check "swineherd-api is running" output_has "It is running" herd status swineherd-api
check "the socket is $api_socket, mode 0600, root's" \
  test "$(stat -c '%a %U %F' "$api_socket")" = "600 root socket"
check "Shepherd logs where it listens" grep -q "swineherd-api: listening on $api_socket and 127.0.0.1 port $tcp_port" "$shepherd_log"
check "herd status says where it listens" output_has "listening on $api_socket" herd status swineherd-api

### Upstream's routes, field by field.
check "upstream containers: empty" answers 200 GET /api/containers
check "  {\"containers\": []}" field_is '[]' containers
check "upstream launch of a /gnu/store …-run-container script" \
  answers 200 POST /api/container/web/launch \
  "{\"prefix\":\"up\",\"script\":\"$store_script\",\"directory-map\":[{\"source\":\"$work\",\"target\":\"/data\",\"read-only\":true},{\"source\":\"/nonexistent\",\"target\":\"/x\",\"read-only\":false}],\"derivations\":[]}"
check "  {\"success\": true}" field_is true success
check "  the container runs as swine:up:web" output_has "It is running" herd status swine:up:web
script_pid=$(main_pid swine:up:web)
check "  the directory map became --expose (read-only), the missing source was dropped" \
  bash -c "tr '\0' '\n' </proc/$script_pid/cmdline | grep -qx -- '--expose=$work=/data' && ! tr '\0' '\n' </proc/$script_pid/cmdline | grep -q nonexistent"
check "upstream containers lists up:web" answers 200 GET /api/containers
check "  [\"up:web\"]" field_is '["up:web"]' containers
check "upstream pid (a JSON body on GET, as upstream)" answers 200 GET /api/container/web/pid '{"prefix":"up"}'
check "  success true" field_is true success
check "  pid is the init's host PID, as herd says" field_is "$(herd pid swine:up:web)" pid
check "upstream info" answers 200 GET /api/container/web/info '{"prefix":"up"}'
for key in success id container ip received transmitted cputime pid; do
  check "  info has $key" json get "$work/body" "$key"
done
check "  info id and container" bash -c "[ \"\$($top/tests/api/json get $work/body id)\" = web ] && [ \"\$($top/tests/api/json get $work/body container)\" = up:web ]"
address=$(herd ip swine:up:web | head -n 1)
check "  info ip: {addr, cidr, type} of herd ip's $address" \
  bash -c "[ \"\$($top/tests/api/json get $work/body ip 0 addr)/\$($top/tests/api/json get $work/body ip 0 cidr)\" = $address ] && [ \"\$($top/tests/api/json get $work/body ip 0 type)\" = 4 ]"
check "upstream peek: a line of the container's /etc/hostname-like file" \
  answers 200 GET /api/container/web/peek '{"prefix":"up","file":"/etc/passwd","pattern":"^root:"}'
check "  result is the matching line" bash -c "$top/tests/api/json get $work/body result | grep -q '^root:'"
check "upstream peek with no match: result false" \
  answers 200 GET /api/container/web/peek '{"prefix":"up","file":"/etc/passwd","pattern":"^nosuchuser:"}'
check "  false" field_is false result
check "upstream exec of a permitted command" \
  answers 200 POST /api/container/web/exec '{"prefix":"up","command":"/bin/true","arguments":[]}'
check "  success true" field_is true success
check "upstream exec of a failing command: success false" \
  answers 200 POST /api/container/web/exec '{"prefix":"up","command":"/bin/false","arguments":[]}'
check "  false" field_is false success
check "upstream exec outside the permitted prefix is refused" \
  answers 200 POST /api/container/web/exec '{"prefix":"up","command":"/usr/bin/id","arguments":[]}'
check "  {\"error\": \"request error\", \"message\": \"command not permitted\"}" \
  bash -c "[ \"\$($top/tests/api/json get $work/body error)\" = 'request error' ] && [ \"\$($top/tests/api/json get $work/body message)\" = 'command not permitted' ]"
check "upstream disconnect" answers 200 PUT /api/container/web/disconnect '{"prefix":"up"}'
check "  success, and herd ip shows no address" bash -c "[ \"\$($top/tests/api/json get $work/body success)\" = true ] && [ -z \"\$(herd -s $socket ip swine:up:web)\" ]"
check "upstream connect" answers 200 PUT /api/container/web/connect '{"prefix":"up"}'
check "  success, and the address is back" bash -c "[ \"\$($top/tests/api/json get $work/body success)\" = true ] && herd -s $socket ip swine:up:web | grep -qx $address"
check "upstream: a missing field" answers 200 GET /api/container/web/pid '{}'
check "  {\"error\": \"missing JSON field\", \"message\": \"prefix\"}" \
  bash -c "[ \"\$($top/tests/api/json get $work/body error)\" = 'missing JSON field' ] && [ \"\$($top/tests/api/json get $work/body message)\" = prefix ]"
check "upstream: an unknown container" answers 200 GET /api/container/nope/pid '{"prefix":"up"}'
check "  unknown container: \`swine:up:nope'" field_is "unknown container: \`swine:up:nope'" message
check "upstream launch of a script outside /gnu/store: success false" \
  answers 200 POST /api/container/other/launch "{\"prefix\":\"up\",\"script\":\"$script\",\"directory-map\":[],\"derivations\":[]}"
check "  false, and no container" bash -c "[ \"\$($top/tests/api/json get $work/body success)\" = false ] && ! herd -s $socket status swine:up:other >/dev/null 2>&1"
check "upstream launch with derivations is refused clearly" \
  answers 200 POST /api/container/other/launch "{\"prefix\":\"up\",\"script\":\"$store_script\",\"directory-map\":[],\"derivations\":[\"/gnu/store/x.drv\"]}"
check "  names guix build" bash -c "$top/tests/api/json get $work/body message | grep -q 'guix build'"
check "upstream: an unknown route is 404 with upstream's text" answers 404 GET /api/nothing
check "  Resource not found" grep -q "Resource not found" "$work/body"
upstream_init=$(herd pid swine:up:web)
check "upstream destroy" answers 200 DELETE /api/container/web/destroy '{"prefix":"up"}'
check "  {\"success\": true, \"message\": \"destroyed container web\"}" \
  bash -c "[ \"\$($top/tests/api/json get $work/body success)\" = true ] && [ \"\$($top/tests/api/json get $work/body message)\" = 'destroyed container web' ]"
check "  swine:up:web is gone, and its init" \
  bash -c "! herd -s $socket status swine:up:web >/dev/null 2>&1 && ! kill -0 $upstream_init 2>/dev/null"

### v1.
check "v1: no containers" answers 200 GET /v1/containers
check "  valid" valid GET /v1/containers 200
check "v1: create" answers 201 POST /v1/containers \
  "{\"id\":\"one\",\"script\":\"$script\",\"memory\":\"256M\",\"pids\":500,\"publish\":[\"18080:80\"],\"arguments\":[\"first-arg\"]}"
check "  valid" valid POST /v1/containers 201
check "  running, with an address" bash -c "[ \"\$($top/tests/api/json get $work/body running)\" = true ] && [ \"\$($top/tests/api/json length $work/body addresses)\" = 1 ]"
check "  herd agrees" output_has "It is running" herd status swine:one
if cgroup_v2; then memory_file=memory.max; else memory_file=memory.limit_in_bytes; fi
check "  --memory reached the cgroup's $memory_file" \
  test "$(cat "$(cgroup_file memory "$SWINEHERD_CGROUP_PARENT"/one $memory_file)")" = 268435456
check "  the script got its argument" bash -c "tr '\0' '\n' </proc/$(main_pid swine:one)/cmdline | grep -qx first-arg"
check "v1: a duplicate ID is 409" answers 409 POST /v1/containers "{\"id\":\"one\",\"script\":\"$script\"}"
check "  valid" valid POST /v1/containers 409
check "v1: a taken host port is 409" answers 409 POST /v1/containers "{\"id\":\"two\",\"script\":\"$script\",\"publish\":[\"18080:80\"]}"
check "  and no container two" fails_with "could not be found" herd status swine:two
check "v1: a missing field is 400 naming it" answers 400 POST /v1/containers '{"id":"two"}'
check "  names script" bash -c "$top/tests/api/json get $work/body message | grep -q script"
check "  valid" valid POST /v1/containers 400
check "v1: a field of the wrong type is 400 naming it" answers 400 POST /v1/containers "{\"id\":\"two\",\"script\":\"$script\",\"memory\":true}"
check "  names memory" bash -c "$top/tests/api/json get $work/body message | grep -q memory"
check "v1: an unknown field is 400 naming it" answers 400 POST /v1/containers "{\"id\":\"two\",\"script\":\"$script\",\"colour\":\"red\"}"
check "  names colour" bash -c "$top/tests/api/json get $work/body message | grep -q colour"
check "v1: an invalid value is 422 with new's message" answers 422 POST /v1/containers "{\"id\":\"two\",\"script\":\"$script\",\"memory\":\"lots\"}"
check "  says --memory" bash -c "$top/tests/api/json get $work/body message | grep -q -- --memory"
check "  valid" valid POST /v1/containers 422
check "v1: a script that is not there is 422" answers 422 POST /v1/containers '{"id":"two","script":"/nonexistent"}'
check "v1: get one" answers 200 GET /v1/containers/one
check "  valid" valid GET /v1/containers/{id} 200
check "  pid is herd's" field_is "$(herd pid swine:one)" pid
check "v1: list" answers 200 GET /v1/containers
check "  valid, with one" bash -c "$top/tests/api/json validate $openapi $work/body GET /v1/containers 200 && [ \"\$($top/tests/api/json get $work/body containers 0 id)\" = one ]"
check "v1: an unknown container is 404" answers 404 GET /v1/containers/nope
check "  valid" valid GET /v1/containers/{id} 404
check "v1: exec" answers 200 POST /v1/containers/one/exec '{"command":["sh","-c","echo out; echo err >&2; exit 3"]}'
check "  valid" valid POST /v1/containers/{id}/exec 200
check "  status 3, stdout and stderr apart" \
  bash -c "[ \"\$($top/tests/api/json get $work/body status)\" = 3 ] && [ \"\$($top/tests/api/json get $work/body stdout)\" = out ] && [ \"\$($top/tests/api/json get $work/body stderr)\" = err ]"
check "v1: exec runs in the container's namespaces" answers 200 POST /v1/containers/one/exec '{"command":["readlink","/proc/self/ns/pid"]}'
init=$(herd pid swine:one)
check "  its pid namespace is the init's" \
  bash -c "[ \"\$($top/tests/api/json get $work/body stdout)\" = \"\$(readlink /proc/$init/ns/pid)\" ]"
check "v1: exec with a timeout" answers 200 POST /v1/containers/one/exec '{"command":["sleep","30"],"timeout":1}'
check "  timed_out true, killed" bash -c "[ \"\$($top/tests/api/json get $work/body timed_out)\" = true ]"
check "v1: exec of a program that is not there is 422" answers 422 POST /v1/containers/one/exec '{"command":["/nonexistent"]}'
check "v1: exec with an empty command is 400" answers 400 POST /v1/containers/one/exec '{"command":[]}'
check "v1: stats" answers 200 GET /v1/containers/one/stats
check "  valid" valid GET /v1/containers/{id}/stats 200
check "  the stats json object of herd" bash -c "[ \"\$($top/tests/api/json get $work/body memory_limit_bytes)\" = 268435456 ] && [ \"\$($top/tests/api/json get $work/body running)\" = true ]"
check "v1: logs" answers 200 'GET' '/v1/containers/one/logs?lines=5'
check "  valid, at most 5 lines" bash -c "$top/tests/api/json validate $openapi $work/body GET /v1/containers/{id}/logs 200 && [ \"\$($top/tests/api/json length $work/body lines)\" -le 5 ]"
check "v1: logs?lines=abc is 400 naming lines" answers 400 GET '/v1/containers/one/logs?lines=abc'
check "  names lines" bash -c "$top/tests/api/json get $work/body message | grep -q lines"
check "v1: snapshot" answers 201 POST /v1/containers/one/snapshots '{"name":"s1"}'
check "  valid" valid POST /v1/containers/{id}/snapshots 201
check "  herd snapshots lists it" output_has s1 herd snapshots swine:one
check "v1: the same snapshot again is 409" answers 409 POST /v1/containers/one/snapshots '{"name":"s1"}'
check "v1: snapshots" answers 200 GET /v1/containers/one/snapshots
check "  [\"s1\"]" field_is '["s1"]' snapshots
check "v1: a snapshot name with a slash is 400" answers 400 POST /v1/containers/one/snapshots '{"name":"../x"}'
check "v1: delete snapshot" answers 200 DELETE /v1/containers/one/snapshots/s1
check "  gone for herd" bash -c "[ -z \"\$(herd -s $socket snapshots swine:one)\" ]"
check "v1: delete a missing snapshot is 404" answers 404 DELETE /v1/containers/one/snapshots/s1
check "v1: down" answers 200 POST /v1/containers/one/down
check "  no address" field_is '[]' addresses
check "v1: up" answers 200 POST /v1/containers/one/up
check "  its address" bash -c "[ \"\$($top/tests/api/json get $work/body addresses 0)\" = \"\$(herd -s $socket ip swine:one)\" ]"
check "v1: stop" answers 200 POST /v1/containers/one/stop
check "  stopped, for herd too" bash -c "[ \"\$($top/tests/api/json get $work/body status)\" = stopped ] && herd -s $socket status swine:one | grep -q 'It is stopped'"
check "v1: exec in a stopped container is 409" answers 409 POST /v1/containers/one/exec '{"command":["true"]}'
check "v1: start" answers 200 POST /v1/containers/one/start
check "  running" field_is running status
old_init=$(herd pid swine:one)
check "v1: restart" answers 200 POST /v1/containers/one/restart
check "  a new init" bash -c "[ \"\$($top/tests/api/json get $work/body pid)\" != $old_init ] && [ \"\$($top/tests/api/json get $work/body running)\" = true ]"
check "v1: a wrong method is 405" answers 405 PUT /v1/containers/one
check "v1: delete" answers 200 DELETE /v1/containers/one
check "  valid" valid DELETE /v1/containers/{id} 200
check "  gone for herd, data deleted" bash -c "! herd -s $socket status swine:one >/dev/null 2>&1 && [ ! -e $work/container-root/one ]"
check "v1: delete again is 404" answers 404 DELETE /v1/containers/one

### The second client: raw HTTP through socat.
reply=$(raw 'GET /v1/containers HTTP/1.1\r\nHost: x\r\n\r\n')
check "socat: HTTP/1.1 200 with a JSON body" bash -c "grep -q '^HTTP/1.1 200' <<<'$reply' && grep -q '\"containers\":\[\]' <<<'$reply'"
reply=$(raw 'GET /api/containers HTTP/1.0\r\n\r\n')
check "socat: HTTP/1.0 on upstream's route" grep -q '^HTTP/1.1 200' <<<"$reply"
check "  and that connection is closed after it" grep -qi '^Connection: close' <<<"$reply"

### Keep-alive: more than one request on a connection.
reply=$(raw 'GET /v1/containers HTTP/1.1\r\nHost: x\r\n\r\nGET /api/containers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "socat: two requests on one connection, two replies" test "$(grep -c '^HTTP/1.1 200' <<<"$reply")" = 2
check "  the first kept alive, the second closed as asked" \
  bash -c "grep -i '^Connection:' <<<'$reply' | tr -d '\r' | tr '\n' ' ' | grep -qix 'connection: keep-alive connection: close '"
# curl counts the connections each transfer opened (its verbose line about
# re-using one is worded differently from one version to the next).
connects=$(curl -s --unix-socket "$api_socket" -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
             http://localhost/v1/containers http://localhost/api/containers)
check "curl with two URLs re-uses its connection (got: $connects)" test "$connects" = "200:1 200:0 "

### TCP and its bearer token.
tcp() { curl -sS -o "$work/body" -w '%{http_code}' "$@"; }
check "TCP without a token is 401" test "$(tcp http://127.0.0.1:$tcp_port/v1/containers)" = 401
check "TCP with a wrong token is 401" test "$(tcp -H 'Authorization: Bearer wrong-token-0123456789' http://127.0.0.1:$tcp_port/v1/containers)" = 401
check "TCP with the token is 200" test "$(tcp -H "Authorization: Bearer $token" http://127.0.0.1:$tcp_port/v1/containers)" = 200

### Events: a lifecycle through the API, seen in order.
curl -sN -i --unix-socket "$api_socket" http://localhost/v1/events > "$work/events" 2>/dev/null &
events_pid=$!
check "events: the stream starts with a subscribed line" \
  wait_until 10 grep -q '^{"type":"subscribed"}' "$work/events"
check "  as 200, application/x-ndjson" grep -q '^Content-Type: application/x-ndjson' "$work/events"
call POST /v1/containers "{\"id\":\"ev\",\"script\":\"$script\"}" >/dev/null
call POST /v1/containers/ev/snapshots '{"name":"snap"}' >/dev/null
call POST /v1/containers/ev/down >/dev/null
call POST /v1/containers/ev/up >/dev/null
call POST /v1/containers/ev/stop >/dev/null
call POST /v1/containers/ev/start >/dev/null
ev_script=$(main_pid swine:ev)
kill -KILL "$ev_script"
check "events: died after the script was killed" wait_until 20 grep -q '"type":"died"' "$work/events"
call POST /v1/containers/ev/start >/dev/null
call DELETE /v1/containers/ev >/dev/null
check "events: killed arrives" wait_until 20 grep -q '"type":"killed"' "$work/events"
types=$(grep -o '"type":"[a-z]*"' "$work/events" | grep -v subscribed | cut -d'"' -f4 | tr '\n' ' ')
check "events: created started snapshot down up stopped started died started stopped killed, in order (got: $types)" \
  test "$types" = "created started snapshot down up stopped started died started stopped killed "
check "events: each has its ID, a time and a sequence number" \
  bash -c "[ \$(grep -c '\"id\":\"ev\"' $work/events) = 11 ] && [ \$(grep -c '\"time\":[0-9]' $work/events) = 11 ] && [ \$(grep -c '\"sequence\":[0-9]' $work/events) = 11 ]"
check "events: died carries the wait status of SIGKILL (9)" grep -q '"type":"died".*"status":9' "$work/events"
kill "$events_pid" 2>/dev/null; wait "$events_pid" 2>/dev/null

### Events again: a client that reconnects with since= gets what it missed.
grep '^{"sequence"' "$work/events" > "$work/seen"
snap_seq=$(grep '"type":"snapshot"' "$work/seen" | sed 's/^{"sequence":\([0-9]*\),.*/\1/')
curl -sN --unix-socket "$api_socket" "http://localhost/v1/events?since=$snap_seq" > "$work/resumed" 2>/dev/null &
resumed_pid=$!
check "events since $snap_seq (the snapshot): the 8 after it replayed" \
  wait_until 10 bash -c "[ \$(grep -c '^{\"sequence\"' $work/resumed) -ge 8 ]"
kill "$resumed_pid" 2>/dev/null; wait "$resumed_pid" 2>/dev/null
check "  exactly those the first stream had after it, in order, field for field" \
  diff <(sed '1,/"type":"snapshot"/d' "$work/seen") <(grep '^{"sequence"' "$work/resumed")
check "  after the subscribed line" test "$(head -n 1 "$work/resumed")" = '{"type":"subscribed"}'
check "events since a number never reached: 410, gone" \
  answers 410 GET '/v1/events?since=999999999'
check "  saying what to do" grep -q 'without since' "$work/body"
check "  as the OpenAPI document says" valid GET /v1/events 410
check "events since a word: 400" answers 400 GET '/v1/events?since=yesterday'

### OOM kills: an event with the kernel's count.
curl -sN --unix-socket "$api_socket" http://localhost/v1/events > "$work/oom-events" 2>/dev/null &
oom_events_pid=$!
wait_until 10 grep -q '^{"type":"subscribed"}' "$work/oom-events"
call POST /v1/containers "{\"id\":\"oomc\",\"script\":\"$script\",\"memory\":\"64M\"}" >/dev/null
call POST /v1/containers/oomc/exec '{"command":["sh","-c","head -c 150M /dev/zero | tail -n 1 | wc -c"]}' >/dev/null
oom_file=$(if cgroup_v2; then cgroup_file memory "$SWINEHERD_CGROUP_PARENT/oomc" memory.events; \
           else cgroup_file memory "$SWINEHERD_CGROUP_PARENT/oomc" memory.oom_control; fi)
kernel_kills=$(awk '$1 == "oom_kill" { print $2 }' "$oom_file")
check "oom: the kernel counted an OOM kill in oomc ($kernel_kills)" test "${kernel_kills:-0}" -ge 1
check "oom: an oom event for oomc within 5 s" wait_until 5 grep -q '"type":"oom","id":"oomc"' "$work/oom-events"
check "  with the kernel's count" grep -q "\"type\":\"oom\",\"id\":\"oomc\",.*\"oom_kills\":$kernel_kills" "$work/oom-events"
check "  and only one" test "$(grep -c '"type":"oom"' "$work/oom-events")" = 1
answers 200 GET /metrics >/dev/null
check "oom: in the metrics too" grep -qx "swineherd_container_oom_kills_total{id=\"oomc\"} $kernel_kills" "$work/body"
kill "$oom_events_pid" 2>/dev/null; wait "$oom_events_pid" 2>/dev/null
call DELETE /v1/containers/oomc >/dev/null

### Metrics.
call POST /v1/containers "{\"id\":\"m1\",\"script\":\"$script\",\"memory\":\"256M\"}" >/dev/null
call POST /v1/containers "{\"id\":\"m2\",\"script\":\"$script\"}" >/dev/null
call POST /v1/containers/m2/stop >/dev/null
# The host side of m1's veth, found by its alias, read before and after.
m1_veth=$(grep -l ':m1$' /sys/class/net/*/ifalias | cut -d/ -f5)
m1_tx_before=$(cat "/sys/class/net/$m1_veth/statistics/tx_bytes")
check "metrics: 200" answers 200 GET /metrics
m1_tx_after=$(cat "/sys/class/net/$m1_veth/statistics/tx_bytes")
cp "$work/body" "$work/metrics"
# A parser of the Prometheus text format (0.0.4): every line is a comment
# (# HELP/# TYPE NAME ...) or NAME{LABEL="VALUE",...} NUMBER; every sample's
# family has its HELP and TYPE first.
parse_metrics() {
  awk '
    /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { help[$3] = 1; next }
    /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)$/ { type[$3] = 1; next }
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+]?[0-9.]+([eE][-+]?[0-9]+)?$/ {
      name = $1; sub(/\{.*/, "", name)
      if (!(name in help) || !(name in type)) { print "no HELP/TYPE before " $0; bad = 1 }
      samples++; next }
    { print "unparsable: " $0; bad = 1 }
    END { if (samples == 0) bad = 1; exit bad }' "$1"
}
check "metrics: every line parses as the Prometheus text format" parse_metrics "$work/metrics"
check "metrics: m1 is up" grep -qx 'swineherd_container_up{id="m1"} 1' "$work/metrics"
check "metrics: its memory limit is 256 MiB" grep -qx 'swineherd_container_memory_limit_bytes{id="m1"} 268435456' "$work/metrics"
check "metrics: its pids and memory are positive" \
  bash -c "grep -Eq '^swineherd_container_pids\{id=\"m1\"\} [1-9]' $work/metrics && grep -Eq '^swineherd_container_memory_bytes\{id=\"m1\"\} [1-9]' $work/metrics"
check "metrics: totals" grep -qx 'swineherd_containers_running 1' "$work/metrics"
m1_received=$(sed -n 's/^swineherd_container_network_receive_bytes_total{id="m1"} //p' "$work/metrics")
check "metrics: m1 received what its veth ($m1_veth) sent, $m1_tx_before to $m1_tx_after bytes (got: $m1_received)" \
  test -n "$m1_received" -a "${m1_received:-0}" -ge "$m1_tx_before" -a "${m1_received:-0}" -le "$m1_tx_after"
check "metrics: stopped m2 is down, without statistics" \
  bash -c "grep -qx 'swineherd_container_up{id=\"m2\"} 0' $work/metrics && ! grep -q 'cpu_seconds_total{id=\"m2\"}' $work/metrics"
call DELETE /v1/containers/m1 >/dev/null
call DELETE /v1/containers/m2 >/dev/null

### 40 malformed or hostile requests: 4xx each, Shepherd keeps serving.
bad=0
# bad_call CODE METHOD PATH [BODY]
bad_call() {
  local code=$1; shift
  bad=$((bad + 1))
  local body=${3:-}
  check "bad request $bad: $1 $2 ${body:0:40} → $code" answers "$code" "$@"
}
# bad_raw CODE TEXT: TEXT sent as is through socat.
bad_raw() {
  bad=$((bad + 1))
  local got
  got=$(raw "$2" | status_of)
  check "bad request $bad: raw ${2:0:30} → $1" test "$got" = "$1"
}
bad_raw 400 'HELLO\r\n\r\n'
bad_raw 400 'GET\r\n\r\n'
bad_raw 400 'GET /v1/containers HTTP/1.1\r\nContent-Length: lots\r\n\r\n'
bad_raw 400 'GET /v1/containers/%%zz HTTP/1.1\r\n\r\n'
bad_raw 411 'POST /v1/containers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad_raw 400 'POST /v1/containers HTTP/1.1\r\nContent-Length: 4\r\n\r\n\xff\xfe{}'
bad_raw 431 "GET /v1/containers HTTP/1.1\r\n$(for i in $(seq 100); do printf 'X-H%s: y\\r\\n' $i; done)\r\n"
bad_raw 431 "GET /v1/containers HTTP/1.1\r\nX-Big: $(head -c 20000 /dev/zero | tr '\0' a)\r\n\r\n"
bad_raw 413 'POST /v1/containers HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n{}'
bad_call 400 POST /v1/containers '{'
bad_call 400 POST /v1/containers '[1,2]'
bad_call 400 POST /v1/containers '"x"'
bad_call 400 POST /v1/containers "{\"id\":5,\"script\":\"$script\"}"
bad_call 400 POST /v1/containers '{"id":"x","script":7}'
bad_call 400 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"arguments\":\"a\"}"
bad_call 400 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"publish\":\"80:80\"}"
bad_call 400 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"respawn\":\"yes\"}"
bad_call 400 POST /v1/containers "$(printf '%.0s[' $(seq 20000))"
bad_call 422 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"memory\":-5}"
bad_call 422 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"network\":\"wifi\"}"
bad_call 422 POST /v1/containers "{\"id\":\"bad/id\",\"script\":\"$script\"}"
bad_call 422 POST /v1/containers "{\"id\":\"x\",\"script\":\"$script\",\"from\":\"../../etc\"}"
bad_call 400 GET /v1/containers/..%2F..%2Fetc
bad_raw 400 'GET /v1/containers/%%2e%%2e HTTP/1.1\r\n\r\n'
bad_call 400 GET "/v1/containers/$(head -c 100 /dev/zero | tr '\0' a)"
bad_call 404 GET /v2/anything
bad_call 405 PUT /v1/containers
call POST /v1/containers "{\"id\":\"target\",\"script\":\"$script\",\"network\":\"none\"}" >/dev/null
bad_call 400 GET '/v1/containers/target/logs?lines=-1'
bad_call 400 GET '/v1/containers/target/logs?lines=100000'
bad_call 400 POST /v1/containers/target/exec '{"command":"ls"}'
bad_call 400 POST /v1/containers/target/exec '{"command":[1,2]}'
bad_call 400 POST /v1/containers/target/exec '{"command":["true"],"timeout":-1}'
bad_call 400 POST /v1/containers/target/exec '{"command":["true"],"timeout":"1"}'
bad_call 400 POST /v1/containers/target/snapshots '{"name":"../x"}'
bad_call 400 POST /v1/containers/target/snapshots '{"name":5}'
bad_call 400 POST /v1/containers/target/snapshots ''
bad_raw 400 'DELETE /v1/containers/target/snapshots/.. HTTP/1.1\r\n\r\n'
bad_raw 400 'DELETE /v1/containers/target/snapshots/%%2e%%2e HTTP/1.1\r\n\r\n'
bad_call 400 POST /api/container/target/launch '{"prefix":'
tcp_bad() {
  bad=$((bad + 1))
  check "bad request $bad: TCP with ${1:-no} authorization → 401" \
    test "$(tcp ${1:+-H "Authorization: $1"} http://127.0.0.1:$tcp_port/v1/containers)" = 401
}
tcp_bad "Basic $(printf 'root:%s' "$token" | base64)"
tcp_bad "Bearer ${token}x"
check "at least 40 malformed requests were sent ($bad)" test "$bad" -ge 40
check "Shepherd still serves: herd status root" output_has "It is running" herd status root
check "and the API: GET /v1/containers" answers 200 GET /v1/containers
check "the target container was not touched" output_has "It is running" herd status swine:target
call DELETE /v1/containers/target >/dev/null

### Fuzz: random bytes, and random bodies behind valid heads.
fuzz_bytes() { head -c $((RANDOM % 8192 + 1)) /dev/urandom | socat -t 3 - UNIX-CONNECT:"$api_socket" >/dev/null 2>&1; true; }
fuzz_body() {
  { printf 'POST /v1/containers%s HTTP/1.1\r\nContent-Length: 512\r\n\r\n' "$1"
    head -c 512 /dev/urandom; } | socat -t 3 - UNIX-CONNECT:"$api_socket" 2>/dev/null | head -n 1
}
export -f fuzz_bytes fuzz_body
seq 200 | xargs -P 20 -I{} bash -c fuzz_bytes
codes=$(for path in "" /x /x/exec /x/snapshots; do seq 25 | xargs -P 25 -I{} bash -c "fuzz_body $path"; done | cut -d' ' -f2 | sort | uniq -c | tr -s ' ')
check "fuzz: 100 random bodies are all answered 4xx (got:$codes)" \
  bash -c "[ \"\$(awk '{n += \$1} END {print n}' <<<'$codes')\" = 100 ] && ! grep -qv ' 4[0-9][0-9]\$' <<<'$codes'"
check "fuzz: after 200 random byte strings and 100 random bodies, Shepherd serves" \
  bash -c "herd -s $socket status root | grep -q 'It is running' && [ \"\$(curl -s -o /dev/null -w '%{http_code}' --unix-socket $api_socket http://localhost/v1/containers)\" = 200 ]"

### A slow client is cut off at the read timeout, others are served meanwhile.
exec 3<>/dev/tcp/127.0.0.1/$tcp_port
printf 'GET /v1/containers HTTP/1.1\r\n' >&3       # and never the rest
check "while a slow client holds a connection, others are served" answers 200 GET /v1/containers
check "the slow client is disconnected at the read timeout (2 s)" timeout 8 cat <&3
exec 3<&-

### 50 concurrent launches through the API.
launch_one() {
  curl -sS --max-time 300 --unix-socket "$api_socket" -o /dev/null -w '%{http_code}\n' \
    -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"id\":\"c$1\",\"script\":\"$script\",\"memory\":\"128M\"}" \
    http://localhost/v1/containers
}
export -f launch_one; export api_socket script
codes=$(seq 50 | xargs -P 50 -I{} bash -c 'launch_one {}' | sort | uniq -c | tr -s ' ')
check "50 concurrent creations: all 201 (got:$codes)" test "$codes" = " 50 201"
check "  herd lists 50 running containers" test "$(herd list swineherd | grep -c ' running ')" = 50
check "  each has its own address" test "$(for i in $(seq 50); do herd ip swine:c$i; done | sort -u | wc -l)" = 50
delete_one() {
  curl -sS --max-time 120 --unix-socket "$api_socket" -o /dev/null -w '%{http_code}\n' \
    -X DELETE http://localhost/v1/containers/c$1
}
export -f delete_one
codes=$(seq 50 | xargs -P 50 -I{} bash -c 'delete_one {}' | sort | uniq -c | tr -s ' ')
check "50 concurrent deletions: all 200 (got:$codes)" test "$codes" = " 50 200"
check "  none left" test -z "$(herd list swineherd)"

### The shipped configuration starts the API on its default socket.
stop_shepherd
check "the socket is removed when swineherd-api stops" test ! -e "$api_socket"
start_shepherd
check "shepherd-config.scm starts swineherd-api" output_has "It is running" herd status swineherd-api
check "  on $api_socket, mode 0600" test "$(stat -c '%a' "$api_socket")" = 600
check "  which answers" answers 200 GET /v1/containers

finish
