#include "relay/base/handle.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace tw {
namespace {

struct Thing {
  int id;
};

// What the frees saw, in order (the tests run one at a time).
std::vector<int>& freed() {
  static std::vector<int> ids;
  return ids;
}
void freeThing(Thing* t) {
  freed().push_back(t->id);
  delete t;
}
// hiredis's freeReplyObject takes void*.
void freeAsVoid(void* p) { freeThing(static_cast<Thing*>(p)); }

using ThingPtr = Handle<Thing, freeThing>;

bool isOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

}  // namespace

TEST_CASE("Handle calls its free function once, when it goes", "[handle]") {
  freed().clear();
  {
    ThingPtr a(new Thing{1});
    CHECK(freed().empty());
  }
  CHECK(freed() == std::vector<int>{1});
  ThingPtr b(new Thing{2});
  b.reset(new Thing{3});  // the old one goes at once
  CHECK(freed() == std::vector<int>{1, 2});
  b.reset();
  b.reset();  // already null: nothing to free
  CHECK(freed() == std::vector<int>{1, 2, 3});
}

TEST_CASE("Handle never passes null to the free function", "[handle]") {
  freed().clear();
  { ThingPtr none; }
  { ThingPtr none(nullptr); }
  { Handle<Thing, freeAsVoid> none; }
  CHECK(freed().empty());
}

TEST_CASE("Handle moves ownership: only the last owner frees", "[handle]") {
  freed().clear();
  ThingPtr a(new Thing{7});
  ThingPtr b = std::move(a);
  CHECK(a == nullptr);
  { ThingPtr c = std::move(b); }
  CHECK(freed() == std::vector<int>{7});
  ThingPtr d(new Thing{8});
  Thing* raw = d.release();  // handed to someone else: not freed here
  d.reset();
  CHECK(freed() == std::vector<int>{7});
  freeThing(raw);
}

TEST_CASE("Handle takes a free function that wants void*", "[handle]") {
  freed().clear();
  { Handle<Thing, freeAsVoid> p(new Thing{5}); }
  CHECK(freed() == std::vector<int>{5});
}

TEST_CASE("UniqueFd closes its descriptor once, and -1 is none", "[handle]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    UniqueFd r(fds[0]);
    CHECK(r);
    CHECK(r.get() == fds[0]);
    CHECK(isOpen(fds[0]));
  }
  CHECK_FALSE(isOpen(fds[0]));
  UniqueFd w(fds[1]);
  w.reset();
  CHECK_FALSE(isOpen(fds[1]));
  CHECK_FALSE(w);
  w.reset();  // nothing left to close
  UniqueFd none;
  CHECK(none.get() == -1);
}

TEST_CASE("UniqueFd moves and releases ownership", "[handle]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  UniqueFd a(fds[0]);
  UniqueFd b = std::move(a);
  CHECK(a.get() == -1);
  CHECK(b.get() == fds[0]);
  UniqueFd c(fds[1]);
  c = std::move(b);  // c's own descriptor is closed, b's is now c's
  CHECK_FALSE(isOpen(fds[1]));
  CHECK(c.get() == fds[0]);
  CHECK(b.get() == -1);
  const int raw = c.release();
  c.reset();
  CHECK(isOpen(raw));  // released: the caller closes it
  ::close(raw);
}

}  // namespace tw
