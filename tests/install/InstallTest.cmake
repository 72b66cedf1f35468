# Checks the installed tree (cmake -P script, run by ctest): layout, one include root, a consumer project built and
# run against the prefix, and the installed mirtune run from a moved copy of the prefix with every shipped path in it.
cmake_minimum_required(VERSION 3.22)

foreach(required BUILD_DIR SOURCE_DIR WORK_DIR CONSUMER_DIR CXX_COMPILER)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "InstallTest.cmake needs -D${required}=...")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

set(prefix "${WORK_DIR}/prefix")
set(moved "${WORK_DIR}/moved prefix")  # a space in the path as well
set(kernel "kernels/opencl/vector_add.cl")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Nothing from the caller's environment may point the programs elsewhere; the database and the user folder stay in
# the scratch folder.
set(environment -E env --unset=MIRTUNE_SHARE --unset=MIRTUNE_MODELS --unset=MIRTUNE_RUNNER --unset=MIRTUNE_LIB_DIR
    "MIRTUNE_DB=${WORK_DIR}/mirtune.db" "MIRTUNE_DATA=${WORK_DIR}/datasets" "XDG_DATA_HOME=${WORK_DIR}/xdg")

function(run_checked what)
  cmake_parse_arguments(PARSE_ARGV 1 run "" "WORKING_DIRECTORY;OUTPUT" "COMMAND")
  if(NOT run_WORKING_DIRECTORY)
    set(run_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} ${environment} ${run_COMMAND}
                  WORKING_DIRECTORY "${run_WORKING_DIRECTORY}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status}):\n${run_COMMAND}\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  message(STATUS "${what}: ok")
  if(run_OUTPUT)
    set(${run_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# 1. Install, and check the layout.
run_checked("cmake --install" COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(file bin/mirtune bin/mirtune-run lib/libmirtune_support.a lib/libmirtune_devmap.a
             lib/libmirtune_sentencepiece.so lib/cmake/mirtune/mirtuneConfig.cmake
             lib/cmake/mirtune/mirtuneConfigVersion.cmake lib/cmake/mirtune/mirtuneTargets.cmake
             include/mirtune/support/Files.h include/mirtune/frontend/Frontend.h include/mirtune/ir/Tokenizer.h
             include/mirtune/embeddings/Encoder.h include/mirtune/database/Database.h
             include/mirtune/tuner/runner/RunPlan.h include/mirtune/tasks/devmap/Predict.h
             share/mirtune/embeddings/models/mirencoder-1.0/manifest.json
             share/mirtune/tasks/devmap/models/devmap-1.0/manifest.json
             share/mirtune/${kernel})
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "not installed: ${prefix}/${file}")
  endif()
endforeach()
if(EXISTS "${prefix}/include/mirtune/cli")
  message(FATAL_ERROR "the command line's private headers were installed: ${prefix}/include/mirtune/cli")
endif()

# 2. One include root: every quoted include of an installed header names a file under include/mirtune.
file(GLOB_RECURSE headers RELATIVE "${prefix}/include/mirtune" "${prefix}/include/mirtune/*.h")
list(LENGTH headers headerCount)
if(headerCount LESS 50)
  message(FATAL_ERROR "only ${headerCount} headers under ${prefix}/include/mirtune")
endif()
set(unresolved "")
foreach(header IN LISTS headers)
  file(STRINGS "${prefix}/include/mirtune/${header}" includes REGEX "^#include \"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" included "${line}")
    if(NOT EXISTS "${prefix}/include/mirtune/${included}")
      string(APPEND unresolved "\n  ${header}: #include \"${included}\"")
    endif()
  endforeach()
endforeach()
if(unresolved)
  message(FATAL_ERROR "installed headers include files that are not under include/mirtune:${unresolved}")
endif()
message(STATUS "${headerCount} installed headers, every include resolves under include/mirtune")

# 3. A consumer project: find_package(mirtune) against the prefix, build, run.
set(consumerBuild "${WORK_DIR}/consumer-build")
set(configure ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${consumerBuild}" "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(C_COMPILER)
  list(APPEND configure "-DCMAKE_C_COMPILER=${C_COMPILER}")
endif()
if(COMPILER_LAUNCHER)
  list(APPEND configure "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
endif()
run_checked("configure the consumer" COMMAND ${configure})
run_checked("build the consumer" COMMAND ${CMAKE_COMMAND} --build "${consumerBuild}")
run_checked("run the consumer" COMMAND "${consumerBuild}/predict_device" "${kernel}"
            WORKING_DIRECTORY "${prefix}/share/mirtune" OUTPUT consumerOut)
if(NOT consumerOut MATCHES "^kernels/opencl/vector_add\\.cl  vector_add  (CPU|GPU)  probability [01]\\.[0-9][0-9][0-9]  novelty [01]\\.[0-9][0-9]  expected speedup [0-9]+\\.[0-9][0-9](  fallback: [a-z+ -]+)?\n$")
  message(FATAL_ERROR "unexpected consumer output:\n${consumerOut}")
endif()

# 4. Move the prefix; the installed mirtune must find everything inside the moved copy.
file(RENAME "${prefix}" "${moved}")
if(EXISTS "${prefix}")
  message(FATAL_ERROR "${prefix} still exists after the move")
endif()
# The programs see their own location with symbolic links resolved.
get_filename_component(moved "${moved}" REALPATH)
run_checked("mirtune info --json (moved prefix)" COMMAND "${moved}/bin/mirtune" info --json OUTPUT info)
string(JSON version GET "${info}" version)
if(NOT version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "mirtune info: version '${version}'")
endif()
string(JSON commit GET "${info}" commit)

function(expect_inside name path exists)
  string(FIND "${path}" "${moved}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "mirtune info: ${name} is ${path}, not inside the moved prefix ${moved}")
  endif()
  if(NOT exists)
    message(FATAL_ERROR "mirtune info: ${name} (${path}) does not exist")
  endif()
endfunction()

# Every path listed: the user's files where the environment put them, everything else inside the moved prefix.
set(userPaths "datasets=${WORK_DIR}/datasets" "database=${WORK_DIR}/mirtune.db" "user_data=${WORK_DIR}/xdg/mirtune")
set(checked "")
string(JSON entries LENGTH "${info}" paths)
math(EXPR lastEntry "${entries} - 1")
foreach(index RANGE ${lastEntry})
  string(JSON name MEMBER "${info}" paths ${index})
  string(JSON hasPath ERROR_VARIABLE notAPath GET "${info}" paths ${name} path)
  if(NOT notAPath)
    string(JSON exists GET "${info}" paths ${name} exists)
    list(FIND userPaths "${name}=${hasPath}" userPath)
    if(name MATCHES "^(datasets|database|user_data)$")
      if(userPath EQUAL -1)
        message(FATAL_ERROR "mirtune info: ${name} is ${hasPath}, not where MIRTUNE_DATA/MIRTUNE_DB/XDG_DATA_HOME put it")
      endif()
    else()
      expect_inside(${name} "${hasPath}" ${exists})
    endif()
    list(APPEND checked ${name})
    continue()
  endif()
  # A group (heads, task_data): one entry per task.
  string(JSON count LENGTH "${info}" paths ${name})
  if(count EQUAL 0)
    message(FATAL_ERROR "mirtune info: no ${name} listed")
  endif()
  math(EXPR last "${count} - 1")
  foreach(member RANGE ${last})
    string(JSON task MEMBER "${info}" paths ${name} ${member})
    string(JSON path GET "${info}" paths ${name} ${task} path)
    string(JSON exists GET "${info}" paths ${name} ${task} exists)
    expect_inside("${name} ${task}" "${path}" ${exists})
    list(APPEND checked "${name}:${task}")
  endforeach()
endforeach()
foreach(required share encoder tokenizer kernels runner datasets database user_data heads:devmap heads:coarsen
                 task_data:omp)
  if(NOT required IN_LIST checked)
    message(FATAL_ERROR "mirtune info lists no ${required}:\n${info}")
  endif()
endforeach()

# 5. The installed command line predicts from the moved copy, and agrees with the consumer.
run_checked("mirtune devmap (moved prefix)" COMMAND "${moved}/bin/mirtune" devmap "${kernel}"
            WORKING_DIRECTORY "${moved}/share/mirtune" OUTPUT devmapOut)
string(REGEX REPLACE "(^|\n)platform [^\n]*\n" "\\1" devmapPredictions "${devmapOut}")
if(NOT devmapPredictions STREQUAL consumerOut)
  message(FATAL_ERROR "mirtune devmap from the moved prefix:\n${devmapOut}\ndiffers from the consumer's:\n${consumerOut}")
endif()
message(STATUS "installed, consumer built and run, prefix moved; mirtune ${version} (${commit}) ran from ${moved}")
file(REMOVE_RECURSE "${WORK_DIR}")
