// Catch2 v2 main, compiled once so that test files rebuild quickly.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
