# Embeds the default learned model (models/regain-default.rglm) in the library as a byte
# array, regenerated whenever the file changes. Without the file the array is empty and the
# library falls back to the built-in heuristic (only while bootstrapping a first model).
set(REGAIN_DEFAULT_MODEL "${CMAKE_SOURCE_DIR}/models/regain-default.rglm")
set(REGAIN_MODEL_INC "${CMAKE_BINARY_DIR}/generated/default_model.inc")
if(EXISTS "${REGAIN_DEFAULT_MODEL}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${REGAIN_DEFAULT_MODEL}")
  file(READ "${REGAIN_DEFAULT_MODEL}" _hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
  string(REGEX REPLACE "(([^,]+,){24})" "\\1\n" _bytes "${_bytes}")
else()
  message(WARNING "models/regain-default.rglm missing: Predictive mode falls back to the heuristic")
  # Re-configure when the model appears.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/models")
  set(_bytes "")
endif()
file(CONFIGURE OUTPUT "${REGAIN_MODEL_INC}" CONTENT "// Generated from models/regain-default.rglm; do not edit.\n${_bytes}\n" @ONLY)
