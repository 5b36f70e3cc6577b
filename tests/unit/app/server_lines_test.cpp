#include "server_lines.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// Suites are named App* so that `ctest -R App` selects them (test names carry no folder).
namespace herald::app {
namespace {

void dump_publication(std::string& s, const Publication& p) {
  s += std::to_string(p.offset) + " " + p.epoch + " " + p.data + " " +
       (p.info.empty() ? std::string("-") : p.info);
}

// Every field that differs from a cleared ServerLine, in a fixed order: the tables below state
// a whole parse result in one string, so an unexpected extra field fails the test too.
std::string dump(const ServerLine& l) {
  std::string s;
  auto add = [&s](const std::string& part) {
    s += s.empty() ? "" : " ";
    s += part;
  };
  if (l.has_id) {
    add("id=" + std::to_string(l.id));
  }
  if (l.has_result) {
    add("result");
  }
  if (l.has_error) {
    add("error=" + std::to_string(l.error_code) + (l.error_temporary ? " temporary" : "") + " '" +
        l.error_message + "'");
  } else if (l.error_code != 0 || l.error_temporary || !l.error_message.empty()) {
    add("error-fields-without-error");
  }
  if (!l.epoch.empty()) {
    add("epoch=" + l.epoch);
  }
  if (l.offset != 0) {
    add("offset=" + std::to_string(l.offset));
  }
  if (l.recovered) {
    add("recovered");
  }
  if (l.ping != 0) {
    add("ping=" + std::to_string(l.ping));
  }
  if (l.publication_count > 0) {
    std::string pubs = "pubs=[";
    for (size_t i = 0; i < l.publication_count; ++i) {
      pubs += i == 0 ? "" : "; ";
      dump_publication(pubs, l.publications[i]);
    }
    add(pubs + "]");
  }
  if (!l.push.empty()) {
    add("push=" + l.push);
  }
  if (!l.channel.empty()) {
    add("channel=" + l.channel);
  }
  if (l.code != 0) {
    add("code=" + std::to_string(l.code));
  }
  if (!l.reason.empty()) {
    add("reason='" + l.reason + "'");
  }
  if (!l.reconnect) {
    add("no-reconnect");
  }
  const Publication& m = l.message;
  if (l.has_message || m.offset != 0 || !m.epoch.empty() || !m.data.empty() || !m.info.empty()) {
    std::string msg = l.has_message ? "msg=[" : "fields=[";
    dump_publication(msg, m);
    add(msg + "]");
  }
  return s;
}

// Lines of every shape and size, parsed before a case to show that nothing leaks between lines.
std::vector<std::string> noise_lines() {
  std::vector<std::string> lines = {
      R"({"id":3,"result":{"epoch":"e","offset":9,"recovered":true,"ping":7,"publications":[)"
      R"({"offset":1,"epoch":"e","data":1,"info":2},{"offset":2,"epoch":"e","data":[3]},)"
      R"({"offset":3,"epoch":"e","data":"x","info":{"u":1}}]}})",
      R"({"id":9,"error":{"code":503,"message":"overloaded","temporary":true}})",
      R"({"push":"message","channel":"zz","offset":77,"epoch":"q","data":{"k":[1,2]},"info":5})",
      R"({"push":"disconnect","code":4503,"reason":"force disconnect","reconnect":false})",
      R"({"push":"message","channel":"zz","offset":1,"data":tru})",
      "not json at all",
      "{\"id\":1,",
      "",
  };
  lines.push_back(R"({"push":"message","channel":"big","offset":5,"epoch":"b","data":")" +
                  std::string(100000, 'x') + "\"}");
  return lines;
}

// Parses text with a fresh parser, then again with one parser after every noise line (reuse),
// then with the text as a view into a frame that goes on after it (as sub_command splits
// frames). All three must agree; returns the fresh parse.
bool parse_all_ways(std::string_view text, std::string& dumped) {
  ServerLineParser fresh;
  ServerLine line;
  bool ok = fresh.parse(text, line);
  dumped = dump(line);

  ServerLineParser reused;
  ServerLine reused_line;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& noise : noise_lines()) {
      reused.parse(noise, reused_line);
      EXPECT_EQ(reused.parse(text, reused_line), ok) << text << " after " << noise.substr(0, 60);
      if (ok) {
        EXPECT_EQ(dump(reused_line), dumped) << text << " after " << noise.substr(0, 60);
      }
    }
  }

  std::string frame(text);
  frame += "\n{\"id\":77,\"result\":{\"ping\":1}}\n";
  EXPECT_EQ(reused.parse(std::string_view(frame).substr(0, text.size()), reused_line), ok) << text;
  if (ok) {
    EXPECT_EQ(dump(reused_line), dumped) << text;
  }
  return ok;
}

struct Case {
  std::string_view text;
  std::string_view expected;  // dump() of the parsed line
};

void expect_parses(const Case& c) {
  std::string dumped;
  EXPECT_TRUE(parse_all_ways(c.text, dumped)) << c.text;
  EXPECT_EQ(dumped, c.expected) << c.text;
}

void expect_refused(std::string_view text) {
  std::string dumped;
  EXPECT_FALSE(parse_all_ways(text, dumped)) << text;
}

// The replies of docs/PROTOCOL.md that `herald sub` acts on (connect, subscribe, history).
TEST(AppServerLines, RepliesFromTheProtocolDoc) {
  const Case cases[] = {
      {R"({"id":1,"result":{"client":"5f3a9c1e04b2","version":"0.1.0","protocol":1,"ping":25,)"
       R"("pong":true}})",
       "id=1 result ping=25"},
      {R"({"id":2,"result":{"epoch":"x7Fq2a","offset":7,"recoverable":true,"recovered":false,)"
       R"("publications":[]}})",
       "id=2 result epoch=x7Fq2a offset=7"},
      {R"({"id":3,"result":{"epoch":"x7Fq2a","offset":7,"recoverable":true,"recovered":true,)"
       R"("publications":[{"offset":6,"epoch":"x7Fq2a","data":{"text":"hi"},"time":1764000000000},)"
       R"({"offset":7,"epoch":"x7Fq2a","data":{"text":"there"},"info":{"user":"42",)"
       R"("client":"a41c0d9e77f3"},"time":1764000000500}]}})",
       R"(id=3 result epoch=x7Fq2a offset=7 recovered pubs=[6 x7Fq2a {"text":"hi"} -; )"
       R"(7 x7Fq2a {"text":"there"} {"user":"42","client":"a41c0d9e77f3"}])"},
      {R"({"id":5,"result":{}})", "id=5 result"},
      {R"({"id":6,"result":{"offset":8,"epoch":"x7Fq2a"}})", "id=6 result epoch=x7Fq2a offset=8"},
      {R"({"id":9,"result":{"publications":[{"offset":8,"epoch":"x7Fq2a","data":{"text":"hello"},)"
       R"("info":{"user":"","client":"5f3a9c1e04b2"},"time":1764000001000}],"offset":8,)"
       R"("epoch":"x7Fq2a"}})",
       R"(id=9 result epoch=x7Fq2a offset=8 pubs=[8 x7Fq2a {"text":"hello"} )"
       R"({"user":"","client":"5f3a9c1e04b2"}])"},
      // history with limit 0, as sub_command asks for the current epoch
      {R"({"id":2,"result":{"publications":[],"offset":0,"epoch":"p0Lk3s"}})",
       "id=2 result epoch=p0Lk3s"},
      // replies to ping commands: an empty result
      {R"({"id":12,"result":{}})", "id=12 result"},
      {R"({"id":18446744073709551615,"result":{"ping":18446744073709551615}})",
       "id=18446744073709551615 result ping=18446744073709551615"},
  };
  for (const Case& c : cases) {
    expect_parses(c);
  }
}

TEST(AppServerLines, ErrorRepliesFromTheProtocolDoc) {
  const Case cases[] = {
      {R"({"id":10,"error":{"code":112,"message":"unrecoverable position","temporary":false}})",
       "id=10 error=112 'unrecoverable position'"},
      {R"({"id":40,"error":{"code":503,"message":"overloaded","temporary":true}})",
       "id=40 error=503 temporary 'overloaded'"},
      {R"({"id":0,"error":{"code":100,"message":"bad request: invalid JSON","temporary":false}})",
       "id=0 error=100 'bad request: invalid JSON'"},
      {R"({"id":29,"error":{"code":121,"message":"unsupported protocol version: params.protocol )"
       R"j((this server speaks 1)","temporary":false}})j",
       "id=29 error=121 'unsupported protocol version: params.protocol (this server speaks 1)'"},
      // escapes in the message are decoded
      {R"({"id":7,"error":{"code":109,"message":"a \"b\"\\ \u00e9\n","temporary":false}})",
       "id=7 error=109 'a \"b\"\\ \xc3\xa9\n'"},
      {R"({"id":8,"error":{}})", "id=8 error=0 ''"},
  };
  for (const Case& c : cases) {
    expect_parses(c);
  }
}

TEST(AppServerLines, PushesFromTheProtocolDoc) {
  const Case cases[] = {
      {R"({"push":"message","channel":"news","offset":1,"epoch":"p0Lk3s","data":"breaking",)"
       R"("info":{"user":"","client":"5f3a9c1e04b2"},"time":1764000002000})",
       R"(push=message channel=news msg=[1 p0Lk3s "breaking" )"
       R"({"user":"","client":"5f3a9c1e04b2"}])"},
      {R"({"push":"message","channel":"chat:room1","offset":9,"epoch":"x7Fq2a",)"
       R"("data":{"text":"hi all"},"info":{"user":"42","client":"a41c0d9e77f3"},)"
       R"("time":1764000003000})",
       R"(push=message channel=chat:room1 msg=[9 x7Fq2a {"text":"hi all"} )"
       R"({"user":"42","client":"a41c0d9e77f3"}])"},
      {R"({"push":"message","channel":"chat:room1","offset":10,"epoch":"x7Fq2a","data":[1,2,3]})",
       "push=message channel=chat:room1 msg=[10 x7Fq2a [1,2,3] -]"},
      {R"({"push":"join","channel":"chat:room1","info":{"user":"7","client":"c0ffee12ab34",)"
       R"("info":{"name":"Bo"}}})",
       R"(push=join channel=chat:room1 fields=[0   {"user":"7","client":"c0ffee12ab34",)"
       R"("info":{"name":"Bo"}}])"},
      {R"({"push":"leave","channel":"chat:room1","info":{"user":"7","client":"c0ffee12ab34"}})",
       R"(push=leave channel=chat:room1 fields=[0   {"user":"7","client":"c0ffee12ab34"}])"},
      {R"({"push":"unsubscribe","channel":"chat:room1","code":2500,"reason":"server unsubscribe"})",
       "push=unsubscribe channel=chat:room1 code=2500 reason='server unsubscribe'"},
      {R"({"push":"unsubscribe","channel":"chat:room2","code":2000,"reason":"resubscribe"})",
       "push=unsubscribe channel=chat:room2 code=2000 reason='resubscribe'"},
      {R"({"push":"disconnect","code":4503,"reason":"force disconnect","reconnect":false})",
       "push=disconnect code=4503 reason='force disconnect' no-reconnect"},
      {R"({"push":"disconnect","code":1001,"reason":"going away","reconnect":true})",
       "push=disconnect code=1001 reason='going away'"},
  };
  for (const Case& c : cases) {
    expect_parses(c);
  }
}

// info: null is the same as no info, in a push and in a publication.
TEST(AppServerLines, NullInfoIsAbsent) {
  expect_parses({R"({"push":"message","channel":"c","offset":2,"epoch":"e","data":1,"info":null})",
                 "push=message channel=c msg=[2 e 1 -]"});
  expect_parses(
      {R"({"push":"message","channel":"c","offset":2,"epoch":"e","data":1,"info": null })",
       "push=message channel=c msg=[2 e 1 -]"});
  expect_parses(
      {R"({"id":4,"result":{"publications":[{"offset":3,"epoch":"e","data":2,"info":null}]}})",
       "id=4 result pubs=[3 e 2 -]"});
  // data null is a value the publisher sent, kept
  expect_parses({R"({"push":"message","channel":"c","offset":2,"data":null})",
                 "push=message channel=c msg=[2  null -]"});
}

// data and info are cut out of the line byte for byte: numbers, escapes, spacing and key order
// as the server sent them, only the whitespace around the value dropped.
TEST(AppServerLines, RawJsonIsKeptByteForByte) {
  const std::string_view values[] = {
      "1.0",
      "1e2",
      "-0.5E-3",
      "0",
      "-0",
      "123456789012345678901234567890",
      "1e400",
      "-1.7976931348623157e308",
      "true",
      "false",
      "null",
      R"("")",
      R"("a\"b\\c\/d\n\u00e9\ud83d\ude00")",
      "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
      R"({})",
      R"([])",
      R"({"b":1,"a":[true,false,null],"b":2})",
      R"({ "b" : 1 ,	"a" : [ 1.50 , "x\u0041" ] })",
      R"([[[[[[[[[[{"deep":[{"deeper":{}}]}]]]]]]]]]])",
      R"({"}":"]","\"":"{["})",
  };
  const std::string_view spacing[] = {"", " ", " \t\r\n "};
  for (std::string_view value : values) {
    for (std::string_view space : spacing) {
      std::string v = std::string(space) + std::string(value) + std::string(space);
      std::string text =
          R"({"push":"message","channel":"c","offset":1,"data":)" + v + R"(,"info":)" + v + "}";
      std::string expected_info = value == "null" ? "-" : std::string(value);
      expect_parses({text, "push=message channel=c msg=[1  " + std::string(value) + " " +
                               expected_info + "]"});
      // as the last field, and inside a publication of a reply
      text = R"({"push":"message","channel":"c","offset":1,"data":)" + v + "}";
      expect_parses({text, "push=message channel=c msg=[1  " + std::string(value) + " -]"});
      text = R"({"id":3,"result":{"publications":[{"offset":4,"data":)" + v + R"(,"info":)" + v +
             R"(},{"data":)" + v + R"(,"offset":5}]}})";
      expect_parses({text, "id=3 result pubs=[4  " + std::string(value) + " " + expected_info +
                               "; 5  " + std::string(value) + " -]"});
    }
  }
}

// Fields and push types this version does not know are skipped whatever their shape, as the
// protocol asks (servers add fields; old clients must keep working).
TEST(AppServerLines, UnknownFieldsAndPushesAreIgnored) {
  const Case cases[] = {
      {R"({"future":{"deep":[1,{"x":null}],"s":"\u0041"},"id":3,"result":{"ping":5,"new":[{}],)"
       R"("later":true},"also":123456789012345678901234567890})",
       "id=3 result ping=5"},
      {R"({"push":"fly","channel":"x","whatever":[1,{"a":2}],"n":-1.5e-7})", "push=fly channel=x"},
      {R"({"push":"join","channel":"c","time":1})", "push=join channel=c"},
      {R"({"id":1,"error":{"code":1,"details":{"a":[1,2]},"message":"m"}})", "id=1 error=1 'm'"},
      {R"({"id":3,"result":{"publications":[{"offset":1,"data":2,"time":3,"tags":{"k":"v"}}]}})",
       "id=3 result pubs=[1  2 -]"},
      {R"({})", ""},
      {"  {\"id\":1,\"result\":{}}  \r", "id=1 result"},
      // a key is compared after unescaping, as JSON defines it
      {R"({"\u0069d":4,"result":{}})", "id=4 result"},
  };
  for (const Case& c : cases) {
    expect_parses(c);
  }
}

// A known field with the wrong type or an out-of-range number refuses the whole line.
TEST(AppServerLines, WrongTypesAreRefused) {
  const std::string_view lines[] = {
      R"({"id":"1","result":{}})",
      R"({"id":-1,"result":{}})",
      R"({"id":1.5,"result":{}})",
      R"({"id":1e3,"result":{}})",
      R"({"id":18446744073709551616,"result":{}})",
      R"({"id":123456789012345678901234567890,"result":{}})",
      R"({"id":null,"result":{}})",
      R"({"id":1,"result":[]})",
      R"({"id":1,"result":"ok"})",
      R"({"id":1,"result":{"ping":"25"}})",
      R"({"id":1,"result":{"ping":-25}})",
      R"({"id":1,"result":{"epoch":7}})",
      R"({"id":1,"result":{"offset":"7"}})",
      R"({"id":1,"result":{"offset":18446744073709551616}})",
      R"({"id":1,"result":{"recovered":1}})",
      R"({"id":1,"result":{"recovered":"true"}})",
      R"({"id":1,"result":{"publications":{}}})",
      R"({"id":1,"result":{"publications":[1]}})",
      R"({"id":1,"result":{"publications":[{"offset":0,"data":1}]}})",
      R"({"id":1,"result":{"publications":[{"offset":1}]}})",
      R"({"id":1,"result":{"publications":[{"offset":1,"data":1,"epoch":2}]}})",
      R"({"id":1,"result":{"publications":[{"offset":"1","data":1}]}})",
      R"({"id":1,"result":{"publications":[{"offset":1,"data":1}, 2]}})",
      R"({"id":1,"error":"bad"})",
      R"({"id":1,"error":{"code":"112"}})",
      R"({"id":1,"error":{"code":-1}})",
      R"({"id":1,"error":{"message":5}})",
      R"({"id":1,"error":{"temporary":"yes"}})",
      R"({"push":5})",
      R"({"push":"message","channel":7})",
      R"({"push":"message","channel":null})",
      R"({"push":"message","channel":"c","offset":"1","data":1})",
      R"({"push":"message","channel":"c","offset":-1,"data":1})",
      R"({"push":"message","channel":"c","offset":1,"epoch":{},"data":1})",
      R"({"push":"disconnect","code":"4503"})",
      R"({"push":"disconnect","code":4503,"reason":[]})",
      R"({"push":"disconnect","code":4503,"reconnect":"false"})",
      R"({"push":"disconnect","code":4503,"reconnect":0})",
  };
  for (std::string_view line : lines) {
    expect_refused(line);
  }
}

// data and info must be valid JSON: they are printed as they are, and a reader of herald sub's
// output (jq) must be able to parse them. Ondemand alone would skip over these.
TEST(AppServerLines, InvalidDataOrInfoIsRefused) {
  const std::string_view values[] = {
      "tru",        "nul",   "falsey",      "01",        "-",
      "1.",         ".5",    "1e",          "1e+",       "+1",
      "0x10",       "NaN",   "-Infinity",   "\"\\q\"",   "\"\\u12\"",
      "[1,]",       "[,1]",  "[1 2]",       "{\"a\" 1}", "{\"a\":}",
      "{\"a\":1,}", "{1:2}", "{\"a\":tru}", "[[[nul]]]", "{\"a\":[1,{\"b\":01}]}",
      "[\"\\x\"]",  "'a'",
  };
  for (std::string_view value : values) {
    std::string v(value);
    expect_refused(R"({"push":"message","channel":"c","offset":1,"data":)" + v + "}");
    expect_refused(R"({"push":"message","channel":"c","offset":1,"data":1,"info":)" + v + "}");
    expect_refused(R"({"id":1,"result":{"publications":[{"offset":1,"data":)" + v + "}]}}");
    expect_refused(R"({"id":1,"result":{"publications":[{"offset":1,"data":1,"info":)" + v +
                   "}]}}");
  }
}

TEST(AppServerLines, NotJsonOrNotAnObjectIsRefused) {
  const std::string_view lines[] = {
      "",
      "   ",
      "hello",
      "null",
      "42",
      "\"a string\"",
      "[1,2]",
      "[{\"id\":1,\"result\":{}}]",
      "{",
      "}",
      "{\"id\":1",
      "{\"id\":1,",
      "{\"id\":1,}",
      "{\"id\" 1}",
      "{id:1}",
      "{'id':1}",
      "{\"id\":1,\"result\":{}",
      "{\"id\":1,\"result\":{}}}",
      "{\"id\":1,\"result\":{}} trailing",
      "{\"id\":1,\"result\":{}}{\"id\":2,\"result\":{}}",
      "{\"id\":1,\"result\":{}},",
      "{\"push\":\"message\",\"channel\":\"c\xff\"}",  // not UTF-8
      "{\"push\":\"message\",\"channel\":\"a\x01\"}",  // raw control character
      "{\"push\":\"message\",\"channel\":\"unterminated}",
      std::string_view("{\"id\":1,\0\"result\":{}}", 20),  // NUL byte
  };
  for (std::string_view line : lines) {
    expect_refused(line);
  }
}

// Feeding a line one byte at a time: no proper prefix of a line is itself a line, and none of
// them is read past its end (ASan checks the latter).
TEST(AppServerLines, EveryPrefixOfALineIsRefused) {
  const std::string_view lines[] = {
      R"({"id":3,"result":{"epoch":"x7Fq2a","offset":7,"recovered":true,"publications":[)"
      R"({"offset":6,"epoch":"x7Fq2a","data":{"text":"hi"},"info":{"user":"42"}}]}})",
      R"({"push":"message","channel":"news","offset":1,"epoch":"p0Lk3s","data":[1,2.5e3,"x"]})",
      R"({"id":10,"error":{"code":112,"message":"unrecoverable position","temporary":false}})",
      R"({"push":"disconnect","code":4503,"reason":"force disconnect","reconnect":false})",
  };
  ServerLineParser parser;
  ServerLine line;
  for (std::string_view text : lines) {
    for (size_t n = 0; n < text.size(); ++n) {
      // A copy of exactly n bytes, so that nothing after the prefix is readable.
      std::vector<char> prefix(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_FALSE(parser.parse(std::string_view(prefix.data(), n), line)) << text.substr(0, n);
    }
    EXPECT_TRUE(parser.parse(text, line)) << text;
  }
}

// Random chunk sizes: a frame of several lines cut at random points; every piece that is not a
// whole line is refused, and the whole lines still parse the same afterwards.
TEST(AppServerLines, RandomCutsOfAFrame) {
  const std::string frame =
      R"({"id":1,"result":{"ping":25}})"
      "\n"
      R"({"push":"message","channel":"c","offset":2,"epoch":"e","data":{"a":[1,"}"]}})"
      "\n"
      R"({"push":"unsubscribe","channel":"c","code":2000,"reason":"resubscribe"})";
  std::mt19937 rng(1234);
  ServerLineParser parser;
  ServerLine line;
  for (int round = 0; round < 500; ++round) {
    size_t a = std::uniform_int_distribution<size_t>(0, frame.size())(rng);
    size_t b = std::uniform_int_distribution<size_t>(a, frame.size())(rng);
    std::string_view piece = std::string_view(frame).substr(a, b - a);
    bool whole = (a == 0 || frame[a - 1] == '\n') && (b == frame.size() || frame[b] == '\n') &&
                 piece.find('\n') == std::string_view::npos && !piece.empty();
    EXPECT_EQ(parser.parse(piece, line), whole) << piece;
  }
  EXPECT_TRUE(parser.parse(std::string_view(frame).substr(0, frame.find('\n')), line));
  EXPECT_EQ(dump(line), "id=1 result ping=25");
}

// One parser and one ServerLine reused: a long reply followed by short ones leaves no trace.
TEST(AppServerLines, ReuseResetsEveryField) {
  ServerLineParser parser;
  ServerLine line;
  for (const std::string& noise : noise_lines()) {
    parser.parse(noise, line);
    ASSERT_TRUE(
        parser.parse(R"({"id":3,"result":{"publications":[{"offset":4,"data":5}]}})", line));
    EXPECT_EQ(dump(line), "id=3 result pubs=[4  5 -]") << noise.substr(0, 60);
    ASSERT_TRUE(parser.parse(R"({})", line));
    EXPECT_EQ(dump(line), "") << noise.substr(0, 60);
    EXPECT_TRUE(line.reconnect);
    EXPECT_EQ(line.publication_count, 0u);
  }
}

TEST(AppServerLines, LongLinesAndManyPublications) {
  std::string data = "\"" + std::string(1 << 20, 'd') + "\"";
  std::string text = R"({"push":"message","channel":"c","offset":1,"data":)" + data + "}";
  ServerLineParser parser;
  ServerLine line;
  ASSERT_TRUE(parser.parse(text, line));
  EXPECT_EQ(line.message.data, data);

  text = R"({"id":2,"result":{"publications":[)";
  for (int i = 1; i <= 1000; ++i) {
    text += (i == 1 ? "" : ",");
    text += R"({"offset":)" + std::to_string(i) + R"(,"data":[)" + std::to_string(i) + "]}";
  }
  text += "]}}";
  ASSERT_TRUE(parser.parse(text, line));
  ASSERT_EQ(line.publication_count, 1000u);
  EXPECT_EQ(line.publications[999].offset, 1000u);
  EXPECT_EQ(line.publications[999].data, "[1000]");
  ASSERT_TRUE(parser.parse(R"({"id":2,"result":{"publications":[{"offset":7,"data":0}]}})", line));
  EXPECT_EQ(dump(line), "id=2 result pubs=[7  0 -]");
}

TEST(AppServerLines, NestingIsBounded) {
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + "1" + std::string(depth, ']');
  };
  constexpr size_t kMax = ServerLineParser::kMaxNesting;
  // In a push, data is at level 2; in a publication of a reply, at level 5.
  std::string ok = R"({"push":"message","channel":"c","offset":1,"data":)" + nested(kMax - 1) + "}";
  expect_parses({ok, "push=message channel=c msg=[1  " + nested(kMax - 1) + " -]"});
  expect_refused(R"({"push":"message","channel":"c","offset":1,"data":)" + nested(kMax) + "}");
  ok = R"({"id":1,"result":{"publications":[{"offset":1,"data":)" + nested(kMax - 4) + "}]}}";
  expect_parses({ok, "id=1 result pubs=[1  " + nested(kMax - 4) + " -]"});
  expect_refused(R"({"id":1,"result":{"publications":[{"offset":1,"data":)" + nested(kMax - 3) +
                 "}]}}");
  expect_refused(R"({"push":"message","channel":"c","offset":1,"data":)" + nested(100000) + "}");
  // an unknown field is walked as well (it must be JSON too), within the same bound
  expect_parses({R"({"push":"join","x":)" + nested(kMax - 1) + "}", "push=join"});
  expect_refused(R"({"push":"join","x":)" + nested(kMax) + "}");
  expect_refused(R"({"push":"join","x":)" + nested(100000) + "}");
}

}  // namespace
}  // namespace herald::app
