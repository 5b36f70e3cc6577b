#include "cli_commands.h"

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "api_client.h"
#include "protocol/json_writer.h"

namespace herald::app {
namespace {

struct Common {
  std::string server = "http://127.0.0.1:8080";
  std::string api_key;
  client::TlsOptions tls;
  bool insecure = false;
};

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("--server", c.server, "server base URL (http:// or https://)")
      ->capture_default_str();
  cmd->add_option("--api-key", c.api_key, "X-API-Key (default: $HERALD_API_KEY)");
  cmd->add_option("--ca-file", c.tls.ca_file,
                  "https: PEM certificates to trust (default: the system's store)");
  cmd->add_flag("--insecure-skip-tls-verify", c.insecure,
                "https: accept any certificate for any host (INSECURE: only for a test server)");
}

std::string key_of(const Common& c) {
  if (!c.api_key.empty()) {
    return c.api_key;
  }
  const char* env = std::getenv("HERALD_API_KEY");
  return env != nullptr ? env : "";
}

// Posts and parses {"result": ...}; prints the server's error and returns false otherwise.
bool call(const Common& c, const std::string& method, const std::string& body,
          simdjson::dom::parser& parser, simdjson::dom::element& result) {
  client::TlsOptions tls = c.tls;
  tls.verify = !c.insecure;
  auto r = post_api(c.server, method, body, key_of(c), tls);
  if (!r) {
    std::fprintf(stderr, "herald %s: %s\n", method.c_str(), r.error().c_str());
    return false;
  }
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stderr, "herald %s: HTTP %d, not JSON: %s\n", method.c_str(), r->status,
                 r->body.c_str());
    return false;
  }
  if (r->status != 200 || doc["result"].get(result) != simdjson::SUCCESS) {
    std::fprintf(stderr, "herald %s: HTTP %d %s\n", method.c_str(), r->status,
                 r->body.c_str());
    return false;
  }
  return true;
}

void print_publication(const std::string& channel, simdjson::dom::element pub) {
  std::string line = "{\"channel\":";
  protocol::append_json_string(line, channel);
  uint64_t offset = 0;
  std::string_view epoch;
  if (pub["offset"].get(offset) != simdjson::SUCCESS || pub["epoch"].get(epoch) != simdjson::SUCCESS) {
    return;  // not a publication: the server always sends both
  }
  line += ",\"offset\":" + std::to_string(offset) + ",\"epoch\":";
  protocol::append_json_string(line, epoch);
  line += ",\"data\":" + simdjson::minify(pub["data"]);
  line += "}";
  std::puts(line.c_str());
}

}  // namespace

void register_api_commands(CLI::App& app, int& exit_code) {
  {
    struct Pub {
      Common c;
      std::string channel;
      std::string data;
      std::string key;
    };
    auto p = std::make_shared<Pub>();
    CLI::App* cmd = app.add_subcommand("pub", "publish DATA (JSON) to CHANNEL via the server API");
    cmd->add_option("channel", p->channel, "channel name")->required();
    cmd->add_option("data", p->data, "JSON value, e.g. '{\"text\":\"hi\"}' or '\"hi\"'")
        ->required();
    cmd->add_option("--idempotency-key", p->key, "the same key within 5 minutes publishes once");
    add_common(cmd, p->c);
    cmd->callback([p, &exit_code] {
      std::string body = "{\"channel\":";
      protocol::append_json_string(body, p->channel);
      body += ",\"data\":" + p->data;
      if (!p->key.empty()) {
        body += ",\"idempotency_key\":";
        protocol::append_json_string(body, p->key);
      }
      body += "}";
      simdjson::dom::parser parser;
      simdjson::dom::element result;
      if (!call(p->c, "publish", body, parser, result)) {
        exit_code = 1;
        return;
      }
      std::string line = "{\"channel\":";
      protocol::append_json_string(line, p->channel);
      line += ",\"offset\":" + simdjson::minify(result["offset"]) +
              ",\"epoch\":" + simdjson::minify(result["epoch"]) + "}";
      std::puts(line.c_str());
      exit_code = 0;
    });
  }
  {
    struct History {
      Common c;
      std::string channel;
      long long since = -1;
      std::string epoch;
      long long limit = -1;
      bool reverse = false;
    };
    auto h = std::make_shared<History>();
    CLI::App* cmd = app.add_subcommand("history", "print CHANNEL's history, one JSON per line");
    cmd->add_option("channel", h->channel, "channel name")->required();
    cmd->add_option("--since", h->since,
                    "only publications after (--reverse: before) this offset (needs --epoch)");
    cmd->add_option("--epoch", h->epoch, "the epoch --since belongs to");
    cmd->add_option("--limit", h->limit, "at most this many");
    cmd->add_flag("--reverse", h->reverse,
                  "newest first: the newest N, or with --since the ones before that offset");
    add_common(cmd, h->c);
    cmd->callback([h, &exit_code] {
      std::string body = "{\"channel\":";
      protocol::append_json_string(body, h->channel);
      if (h->since >= 0) {
        body += ",\"since\":{\"offset\":" + std::to_string(h->since) + ",\"epoch\":";
        protocol::append_json_string(body, h->epoch);
        body += "}";
      }
      if (h->limit >= 0) {
        body += ",\"limit\":" + std::to_string(h->limit);
      }
      if (h->reverse) {
        body += ",\"reverse\":true";
      }
      body += "}";
      simdjson::dom::parser parser;
      simdjson::dom::element result;
      if (!call(h->c, "history", body, parser, result)) {
        exit_code = 1;
        return;
      }
      simdjson::dom::array pubs;
      if (result["publications"].get(pubs) == simdjson::SUCCESS) {
        for (simdjson::dom::element pub : pubs) {
          print_publication(h->channel, pub);
        }
      }
      exit_code = 0;
    });
  }
  {
    struct Presence {
      Common c;
      std::string channel;
    };
    auto pr = std::make_shared<Presence>();
    CLI::App* cmd = app.add_subcommand("presence", "print who is in CHANNEL, one JSON per line");
    cmd->add_option("channel", pr->channel, "channel name")->required();
    add_common(cmd, pr->c);
    cmd->callback([pr, &exit_code] {
      std::string body = "{\"channel\":";
      protocol::append_json_string(body, pr->channel);
      body += "}";
      simdjson::dom::parser parser;
      simdjson::dom::element result;
      if (!call(pr->c, "presence", body, parser, result)) {
        exit_code = 1;
        return;
      }
      simdjson::dom::object clients;
      if (result["clients"].get(clients) == simdjson::SUCCESS) {
        for (auto field : clients) {
          std::string line = "{\"channel\":";
          protocol::append_json_string(line, pr->channel);
          line += ",\"client\":" + simdjson::minify(field.value) + "}";
          std::puts(line.c_str());
        }
      }
      exit_code = 0;
    });
  }
}

}  // namespace herald::app
