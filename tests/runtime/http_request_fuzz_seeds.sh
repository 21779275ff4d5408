#!/usr/bin/env bash
# Writes the seed corpus of http_request_fuzz (tests/runtime/http_request_fuzz.cpp): what
# typical clients send on one connection, good and bad. Each file is one connection's
# bytes; the fuzz target reads it as the server would. Run it again after editing:
#   tests/runtime/http_request_fuzz_seeds.sh tests/runtime/http_request_fuzz_corpus
set -euo pipefail

dir=${1:?usage: http_request_fuzz_seeds.sh DIR}
mkdir -p "$dir"
seed() { printf "$2" > "$dir/$1"; }

seed get 'GET /user%%2F42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n'
seed post_then_get 'POST /k HTTP/1.1\r\nHost: n1\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhelloGET /k HTTP/1.1\r\nHost: n1\r\n\r\n'
seed pipelined_put_head_delete_get 'PUT /a HTTP/1.1\r\nHost: n1\r\nContent-Length: 3\r\n\r\nxyzHEAD /a HTTP/1.1\r\nHost: n1\r\n\r\nDELETE /a HTTP/1.1\r\nHost: n1\r\n\r\nGET /a?timeout=250ms HTTP/1.1\r\nHost: n1\r\nConnection: close\r\n\r\n'
seed chunked_post 'POST /c HTTP/1.1\r\nHost: n1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\nGET /c HTTP/1.1\r\n\r\n'
seed expect_continue 'PUT /big HTTP/1.1\r\nHost: n1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n0123456789'
seed cluster_endpoints 'GET /_cluster/health HTTP/1.1\r\n\r\nGET /_cluster/members HTTP/1.1\r\n\r\nHEAD /_cluster/metrics HTTP/1.1\r\n\r\nPOST /_cluster/health HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /_cluster/nope HTTP/1.1\r\n\r\n'
seed bad_targets 'GET /%%zz HTTP/1.1\r\n\r\nGET /%%5Fcluster/members HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\nGET /k?timeout=soon HTTP/1.1\r\n\r\nGET http://h/k HTTP/1.1\r\n\r\nGET /caf\xc3\xa9\xff%%C3 HTTP/1.1\r\n\r\n'
seed other_methods 'PATCH /k HTTP/1.1\r\nContent-Length: 1\r\n\r\nxOPTIONS * HTTP/1.1\r\n\r\nDELETE /never-written HTTP/1.1\r\n\r\n'
# A header 12 bytes over the server's 16 KiB limit, its fields alone under it: 431 (Beast
# alone let it through when it arrived in one read).
seed header_over_limit "GET /k HTTP/1.1\r\nX-Pad: $(head -c 16368 /dev/zero | tr '\0' a)\r\n\r\n"
seed keep_alive_http10 'POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhiGET /k HTTP/1.0\r\n\r\n'
seed bad_framing 'POST /k HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'
seed bad_chunk 'POST /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'
