#include "wgate/session_routing.h"

namespace its::wgate {

RouteDecision DecideRoute(const ProcessDirectory& directory,
                          std::string_view session, bool terminate, bool naive,
                          std::mt19937_64& rng) {
  RouteDecision d;
  auto id = ParseGusid(session);
  if (!id.ok() && terminate) id = ParsePublicId(session);
  if (!id.ok()) {
    d.refusal = proto::SESSION_NOT_FOUND;
    return d;
  }
  // No copy of the random part on the hot path.
  d.owner = Gusid{std::move(id->instance), "", id->process, id->slot, ""};
  const proto::ProcessInfo* target = directory.Owner(d.owner);
  if (terminate && naive) target = directory.AnyLiveProcess(rng);
  if (target == nullptr) {
    const auto* inst = directory.Find(d.owner.instance);
    // Just (re)started: this instance's directory is on its way.
    d.refusal = inst != nullptr && !inst->has_directory
                    ? proto::STARTING
                    : proto::SESSION_NOT_FOUND;
    return d;
  }
  if (target->state() == proto::ProcessInfo::DOWN ||
      (!naive && target->incarnation() != d.owner.incarnation())) {
    d.refusal = proto::SESSION_LOST;
    return d;
  }
  if (target->address().empty()) {  // known, but not yet registered again
    d.refusal = proto::AGATE_UNREACHABLE;
    return d;
  }
  d.target = target;
  d.misrouted = target->instance() != d.owner.instance ||
                target->process() != static_cast<int>(d.owner.process);
  return d;
}

bool OwnerEnded(const ProcessDirectory& directory, const Gusid& owner) {
  const proto::ProcessInfo* p = directory.Owner(owner);
  return p == nullptr || p->state() == proto::ProcessInfo::DOWN ||
         p->incarnation() != owner.incarnation();
}

}  // namespace its::wgate
