# Builds the docs page bundle (Redoc) for the binary: `npm ci` in openapi/ from the
# pinned package-lock.json, then a copy of the bundle to OUT. The first build needs the
# npm registry; without it the build goes on with a stand-in bundle that says, on /docs,
# that the page was built without it (/openapi.json is served either way). Deleting OUT
# (build/redoc.standalone.js) makes the next build try npm again.
#   cmake -DNPM=npm -DSRC=<openapi dir> -DOUT=<file> -P bundle.cmake
set(REAL ${SRC}/node_modules/redoc/bundles/redoc.standalone.js)
# Installed from this lock file already (by another build directory): no npm.
set(STAMP ${SRC}/node_modules/.package-lock.json)
if(EXISTS ${REAL} AND EXISTS ${STAMP}
    AND NOT ${SRC}/package-lock.json IS_NEWER_THAN ${STAMP})
  file(COPY_FILE ${REAL} ${OUT})
  return()
endif()
execute_process(
  COMMAND ${NPM} ci --prefer-offline --no-audit --no-fund --loglevel=error
    --fetch-retries=1 --fetch-timeout=30000
  WORKING_DIRECTORY ${SRC}
  RESULT_VARIABLE rc)
if(rc EQUAL 0 AND EXISTS ${REAL})
  file(COPY_FILE ${REAL} ${OUT})
  return()
endif()
message(WARNING "npm ci in ${SRC} failed (is the npm registry reachable?): "
  "building without the docs page bundle; /docs will say so, /openapi.json is "
  "served as usual. To try again: rm ${OUT} and build.")
file(WRITE ${OUT} "/* Stand-in: the Redoc bundle was not built (npm could not install it). */
window.Redoc = { init: function (url, options, el) {
  el.innerHTML = '<p style=\"font-family: system-ui, sans-serif; margin: 2em\">' +
    'This server was built without the docs page bundle (npm could not reach its ' +
    'registry). The contract is at <a href=\"' + url + '\">' + url + '</a>.</p>';
} };
")
