#include "common/its_protocol.h"

#include <gtest/gtest.h>

namespace its {
namespace {

Params Of(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Params p;
  for (const auto& [n, v] : kv) p.Set(n, v);
  return p;
}

TEST(ItsProtocolTest, SessionCommandsInTheOrderTheItsReadsThem) {
  EXPECT_EQ(ParseSessionCommand(Of({})), proto::NO_COMMAND);
  EXPECT_EQ(ParseSessionCommand(Of({{"~okcode", "/00"}})), proto::NO_COMMAND);
  EXPECT_EQ(ParseSessionCommand(Of({{"~SAPSessionCmd", "usr_abort"}})),
            proto::USR_ABORT);
  EXPECT_EQ(ParseSessionCommand(Of({{"sap-sessioncmd", "USR_LOGOFF"}})),
            proto::USR_LOGOFF);
  EXPECT_EQ(ParseSessionCommand(Of({{"~sapsessioncmd", "OPEN"}})),
            proto::UNKNOWN_COMMAND);
  // ~SAPSessionCmd wins over ~command, which wins over /NEX; an abort that
  // also says ~command=logoff is a logoff.
  EXPECT_EQ(ParseSessionCommand(
                Of({{"~sapsessioncmd", "USR_ABORT"}, {"~command", "logoff"}})),
            proto::USR_LOGOFF);
  EXPECT_EQ(ParseSessionCommand(Of({{"~sapsessioncmd", "USR_ABORT"},
                                    {"~command", "endofsession"}})),
            proto::USR_ABORT);
  EXPECT_EQ(ParseSessionCommand(
                Of({{"~command", "endofsession"}, {"~okcode", "/nex"}})),
            proto::END_OF_SESSION);
  EXPECT_EQ(ParseSessionCommand(Of({{"~Command", "LOGOFF"}})), proto::LOGOFF);
  EXPECT_EQ(ParseSessionCommand(Of({{"~command", "endOfSession"}})),
            proto::END_OF_SESSION);
  EXPECT_EQ(ParseSessionCommand(Of({{"~okcode", " /nex "}})), proto::NEX);
  EXPECT_EQ(ParseSessionCommand(Of({{"~command", "other"}})),
            proto::NO_COMMAND);
}

TEST(ItsProtocolTest, WhatCommandsDo) {
  EXPECT_FALSE(EndsSession(proto::NO_COMMAND));
  EXPECT_FALSE(EndsSession(proto::UNKNOWN_COMMAND));
  EXPECT_TRUE(EndsSession(proto::NEX));
  EXPECT_TRUE(IsLogoff(proto::USR_LOGOFF));
  EXPECT_TRUE(IsLogoff(proto::LOGOFF));
  EXPECT_FALSE(IsLogoff(proto::USR_ABORT));  // a closed window
  EXPECT_EQ(SessionCommandName(proto::NEX), "/nex");
  EXPECT_TRUE(IsTermination(Of({{"sap-sessioncmd", "x"}})));
  EXPECT_FALSE(IsTermination(Of({{"~command", "logoff"}})));
}

TEST(ItsProtocolTest, SessionIdFromUrlBeforeCookie) {
  Params url = Of({{"~session", "A"}, {"~okcode", "/00"}});
  EXPECT_EQ(TakeSessionId(url, "~session=B"), "A");
  EXPECT_FALSE(url.Has("~session")) << "the ID is not a parameter";
  Params none;
  EXPECT_EQ(TakeSessionId(none, "x=1; ~session=IT1%2Fy"), "IT1/y");
  EXPECT_EQ(TakeSessionId(none, "~session=%zz"), "") << "broken escaping";
  EXPECT_EQ(TakeSessionId(none, std::nullopt), "");
}

TEST(ItsProtocolTest, CookieScopedToTheService) {
  EXPECT_EQ(SessionCookie("webgui", "IT1/a b"),
            "~session=IT1%2Fa%20b; Path=/scripts/wgate/webgui/; HttpOnly; "
            "SameSite=Lax");
  EXPECT_EQ(SessionCookie("webgui", ""),
            "~session=; Path=/scripts/wgate/webgui/; Max-Age=0; HttpOnly; "
            "SameSite=Lax");
  EXPECT_EQ(ServiceUrl("fb03"), "/scripts/wgate/fb03/");
}

TEST(ItsProtocolTest, LogonDataNeedsClientUserAndPassword) {
  Params p = Of({{"~client", "100"}, {"~login", "DEMO"}, {"~passwd", "pw"}});
  auto look = [&](std::string_view n) { return p.GetOr(n, ""); };
  LogonData d = ReadLogonData(look);
  EXPECT_TRUE(d.complete());
  EXPECT_EQ(d.password, "pw") << "~passwd stands in for ~password";
  p.Erase("~client");
  EXPECT_FALSE(ReadLogonData(look).complete());
}

TEST(ItsProtocolTest, SecretsAreErased) {
  Params p = Of({{"~password", "a"},
                 {"~passwd", "b"},
                 {"sap-password", "c"},
                 {"~login", "DEMO"}});
  EraseSecrets(p);
  EXPECT_EQ(p.size(), 1u);
  EXPECT_TRUE(IsSecretParam("~password"));
  EXPECT_FALSE(IsSecretParam("~login"));
}

}  // namespace
}  // namespace its
