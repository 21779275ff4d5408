// The body of GET /_cluster/keys?values: the cluster's keys and values as NDJSON, fetched
// one listing page at a time (runtime/http/listing.h says what the lines hold).
//
// It asks the node for the next page only when the server wants the next piece, so an
// export of any size holds one page in memory and goes as fast as its client reads.
#pragma once

#include <memory>

#include "runtime/http/http_api.h"
#include "runtime/http/listing.h"

namespace ckv {

class NodeDriver;

// `params.values` is set; `driver` outlives the stream (it lives as long as the server).
std::shared_ptr<BodyStream> listing_export(NodeDriver& driver, ListParams params);

}  // namespace ckv
