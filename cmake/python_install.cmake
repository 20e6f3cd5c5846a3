# The Python package (bindings/python/eoproc), installed by `cmake --install`
# into the site folder of the system's /usr/bin/python3 under the prefix:
#   prefix /usr       -> lib/python3/dist-packages     (Debian's own packages)
#   any other prefix  -> lib/python3.X/dist-packages   (/usr/local's is on
#                        Debian's sys.path; another prefix needs PYTHONPATH)
# with an _install.py beside it that names the installed libeoproc.so.1 by
# its path relative to the package, so `import eoproc` finds the library
# without EOPROC_LIBRARY or LD_LIBRARY_PATH, and the tree can move.
option(EOPROC_INSTALL_PYTHON "Install the Python package with the library" ON)
if(NOT EOPROC_INSTALL_PYTHON)
  return()
endif()
set(EOPROC_PYTHON /usr/bin/python3 CACHE FILEPATH "Python whose site folder gets the package")
if(NOT EOPROC_PYTHON_DIR)
  execute_process(
    COMMAND ${EOPROC_PYTHON} -c "import sys; print('%d.%d' % sys.version_info[:2])"
    OUTPUT_VARIABLE EOPROC_PYTHON_VERSION OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE EOPROC_PYTHON_RC)
  if(NOT EOPROC_PYTHON_RC EQUAL 0)
    message(FATAL_ERROR "${EOPROC_PYTHON} does not run: set EOPROC_PYTHON, or "
                        "-DEOPROC_INSTALL_PYTHON=OFF")
  endif()
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(EOPROC_PYTHON_DIR lib/python3/dist-packages)
  else()
    set(EOPROC_PYTHON_DIR lib/python${EOPROC_PYTHON_VERSION}/dist-packages)
  endif()
endif()
set(EOPROC_PYTHON_DIR ${EOPROC_PYTHON_DIR} CACHE STRING
    "Site folder of the Python package, relative to the prefix")
file(RELATIVE_PATH EOPROC_PY_TO_LIB "/p/${EOPROC_PYTHON_DIR}/eoproc" "/p/${CMAKE_INSTALL_LIBDIR}")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/python/_install.py
  "\"\"\"Written by cmake --install: where the installed library is.\"\"\"\n"
  "import os\n\n"
  "LIBRARY = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),\n"
  "                                        \"${EOPROC_PY_TO_LIB}\", \"libeoproc.so.1\"))\n")
install(DIRECTORY bindings/python/eoproc DESTINATION ${EOPROC_PYTHON_DIR}
        PATTERN __pycache__ EXCLUDE PATTERN "*.pyc" EXCLUDE PATTERN "libeoproc.so*" EXCLUDE
        PATTERN "_install.py" EXCLUDE)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/python/_install.py
        DESTINATION ${EOPROC_PYTHON_DIR}/eoproc)
