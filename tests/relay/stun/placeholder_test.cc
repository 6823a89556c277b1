#include <catch2/catch.hpp>
TEST_CASE("stun placeholder (delete when real tests land)") { CHECK(1 + 1 == 2); }
