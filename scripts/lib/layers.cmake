# The layering rule of docs/architecture.md ("Rooms"): every room of the tree is one
# library, and a library links only libraries of a lower layer. Included by the
# top-level CMakeLists.txt, which checks the real targets at configure time (an upward
# link fails the configure), and run as a script by the ctest `layers_*` tests:
#   cmake -DEDGES=a>b,c>d -DEXPECT=a>b -P layers.cmake   (or -DEDGES_FILE=, one per line)
# succeeds only when the violations found in EDGES are exactly EXPECT.

# room library = layer rank (lowest first)
set(TW_LAYERS
  relay_base=0
  relay_stun=1 policy=1
  relay_core=2
  relay_io=3 metrics=3 relay_usage=3
  relay_http=4 relay_fleet=4
  relay_app=5)

# tw_layer_rank(OUT NAME): NAME's rank, or "" when NAME is not a room library.
# tw_split_pair(TEXT SEP A B): A and B get the parts of TEXT before and after SEP.
function(tw_split_pair text sep a b)
  string(REPLACE "${sep}" ";" pair "${text}")
  list(GET pair 0 first)
  list(GET pair 1 second)
  set(${a} "${first}" PARENT_SCOPE)
  set(${b} "${second}" PARENT_SCOPE)
endfunction()

function(tw_layer_rank out name)
  set(rank "")
  foreach(entry IN LISTS TW_LAYERS)
    tw_split_pair("${entry}" "=" lib r)
    if(lib STREQUAL name)
      set(rank "${r}")
    endif()
  endforeach()
  set(${out} "${rank}" PARENT_SCOPE)
endfunction()

# tw_layer_violations(OUT EDGES...): the "from>to" edges between room libraries where
# `to` is not in a lower layer than `from` (an upward or sideways link).
function(tw_layer_violations out)
  set(bad "")
  foreach(edge IN LISTS ARGN)
    tw_split_pair("${edge}" ">" from to)
    tw_layer_rank(rf "${from}")
    tw_layer_rank(rt "${to}")
    if(NOT rf STREQUAL "" AND NOT rt STREQUAL "" AND NOT rt LESS rf)
      list(APPEND bad "${edge}")
    endif()
  endforeach()
  set(${out} "${bad}" PARENT_SCOPE)
endfunction()

# tw_room_edges(OUT): every direct link between two room libraries of this build.
function(tw_room_edges out)
  set(edges "")
  foreach(entry IN LISTS TW_LAYERS)
    tw_split_pair("${entry}" "=" lib rank)
    get_target_property(links ${lib} LINK_LIBRARIES)
    foreach(dep IN LISTS links)
      tw_layer_rank(r "${dep}")
      if(NOT r STREQUAL "")
        list(APPEND edges "${lib}>${dep}")
      endif()
    endforeach()
  endforeach()
  set(${out} "${edges}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "," ";" EDGES "${EDGES}")
  string(REPLACE "," ";" EXPECT "${EXPECT}")
  if(DEFINED EDGES_FILE)
    file(STRINGS "${EDGES_FILE}" EDGES)
  endif()
  tw_layer_violations(found ${EDGES})
  if(NOT "${found}" STREQUAL "${EXPECT}")
    message(FATAL_ERROR "layers: upward links found: '${found}', expected: '${EXPECT}'")
  endif()
  list(LENGTH EDGES n)
  message(STATUS "layers: ${n} links checked, upward links as expected: '${found}'")
endif()
