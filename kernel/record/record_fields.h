// The fields records are made of (times, records, conditions, outputs), in the wire
// codec's primitives. Shared by the record format (record_format.cpp) and the output
// summaries (output_summary.cpp), which hash outputs in this same encoding.
#pragma once

#include <optional>

#include "kernel/commit_gate.h"
#include "kernel/core/result.h"
#include "kernel/core/time.h"
#include "kernel/kv/client.h"
#include "kernel/kv/store.h"
#include "kernel/outbox.h"
#include "kernel/wire/byte_reader.h"
#include "kernel/wire/byte_writer.h"
#include "kernel/wire/messages.h"

namespace ckv::record {

void put_now(wire::ByteWriter& w, Now now);
Now get_now(wire::ByteReader& r);
void put_duration(wire::ByteWriter& w, std::optional<Duration> d);
std::optional<Duration> get_duration(wire::ByteReader& r);
void put_content(wire::ByteWriter& w, const ContentType& c);
ContentType get_content(wire::ByteReader& r);
void put_version(wire::ByteWriter& w, const Version& v);
Version get_version(wire::ByteReader& r);
void put_condition(wire::ByteWriter& w, const WriteCondition& c);
WriteCondition get_condition(wire::ByteReader& r);
void put_tags(wire::ByteWriter& w, const wire::Tags& tags);
wire::Tags get_tags(wire::ByteReader& r);
void put_error(wire::ByteWriter& w, const Error& e);
Error get_error(wire::ByteReader& r);
// A Status: a flag, and the error when there is one.
void put_status(wire::ByteWriter& w, const Status& s);
std::optional<Error> get_status(wire::ByteReader& r);
void put_record(wire::ByteWriter& w, const Record& rec);
Record get_record(wire::ByteReader& r);

void put_change(wire::ByteWriter& w, const MemberChange& c);
void put_send(wire::ByteWriter& w, const Send& s);
void put_reply(wire::ByteWriter& w, const Reply& reply);
void put_event(wire::ByteWriter& w, const ChangeEvent& e);
MemberChange get_change(wire::ByteReader& r);
Send get_send(wire::ByteReader& r);
Reply get_reply(wire::ByteReader& r);
ChangeEvent get_event(wire::ByteReader& r);
// A release in full, in memory: per kind (changes, sends, replies, events) a count, then
// each item as an 8-byte length and its put_* encoding (`out` is the writer's buffer).
void put_effects(wire::ByteWriter& w, std::vector<uint8_t>& out, const Effects& effects);
void get_effects(wire::ByteReader& r, Effects& out);
// One item of such a release: its encoding.
std::span<const uint8_t> get_item(wire::ByteReader& r);

}  // namespace ckv::record
