# Install rules: executables, the libraries and their headers as the CMake package mirtune (mirtune::mirtune), and the
# shipped files under share/mirtune with the source tree's layout, so an installed binary finds them beside itself.
#
# Layout under the prefix:
#   bin/mirtune, bin/mirtune-run, bin/mirtune-pretrain (what `mirtune pretrain` runs)
#   lib/libmirtune_*.a, lib/libmirtune_sentencepiece.so and lib/libmirtune_mlp.so (loaded at run time from <bin>/../lib)
#   lib/cmake/mirtune/{mirtuneConfig,mirtuneConfigVersion,mirtuneTargets}.cmake
#   include/mirtune/{support,frontend,ir,corpus,embeddings,database,tuner,tasks}/...   (one include root)
#   share/mirtune/{embeddings/models,tasks/<task>/models,tasks/<task>/data,kernels}
#
# Included last from the top-level CMakeLists.txt, so it sees every target; libraries are collected from the
# source folders (tests and experiments aside) rather than listed, and their include folders are rewritten here for
# the installed tree, so the CMakeLists of each module need no install code.

include(CMakePackageConfigHelpers)

set(MIRTUNE_INSTALL_CMAKEDIR "lib/cmake/mirtune")
set(MIRTUNE_INSTALL_INCLUDEDIR "include/mirtune")
set(MIRTUNE_INSTALL_SHAREDIR "share/mirtune")

# Every target defined in `directory` and below, skipping tests and experiments.
function(mirtune_collect_targets directory out)
  get_property(here DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(children DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
  foreach(child IN LISTS children)
    file(RELATIVE_PATH relative "${PROJECT_SOURCE_DIR}" "${child}")
    if(relative MATCHES "^(tests|experiments)(/|$)")
      continue()
    endif()
    mirtune_collect_targets("${child}" below)
    list(APPEND here ${below})
  endforeach()
  set(${out} ${here} PARENT_SCOPE)
endfunction()

mirtune_collect_targets("${PROJECT_SOURCE_DIR}" mirtune_all_targets)
set(mirtune_exported_libraries "")
foreach(target IN LISTS mirtune_all_targets)
  get_target_property(type ${target} TYPE)
  # Every library, whatever its name: an exported library may only link exported ones.
  if(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|INTERFACE_LIBRARY)$")
    list(APPEND mirtune_exported_libraries ${target})
  endif()
endforeach()

# Include folders inside the source or build tree hold only in the build; installed, every header sits under the
# single root include/mirtune.
foreach(target IN LISTS mirtune_exported_libraries)
  foreach(property INTERFACE_INCLUDE_DIRECTORIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
    get_target_property(folders ${target} ${property})
    if(NOT folders)
      continue()
    endif()
    set(rewritten "")
    set(inTree FALSE)
    foreach(folder IN LISTS folders)
      string(FIND "${folder}/" "${PROJECT_SOURCE_DIR}/" inSource)
      string(FIND "${folder}/" "${PROJECT_BINARY_DIR}/" inBuild)
      if(inSource EQUAL 0 OR inBuild EQUAL 0)
        list(APPEND rewritten "$<BUILD_INTERFACE:${folder}>")
        set(inTree TRUE)
      else()
        list(APPEND rewritten "${folder}")  # outside the trees (LLVM's headers), or already a generator expression
      endif()
    endforeach()
    if(inTree AND property STREQUAL "INTERFACE_INCLUDE_DIRECTORIES")
      list(APPEND rewritten "$<INSTALL_INTERFACE:${MIRTUNE_INSTALL_INCLUDEDIR}>")
    endif()
    set_property(TARGET ${target} PROPERTY ${property} "${rewritten}")
  endforeach()
endforeach()

# mirtune::mirtune: everything a program linking mirtune needs (each library brings what it depends on), except
# pretraining, whose LibTorch a program that only embeds and predicts should not load: link mirtune_pretrain for it.
add_library(mirtune_library INTERFACE)
set_target_properties(mirtune_library PROPERTIES EXPORT_NAME mirtune)
foreach(target IN LISTS mirtune_exported_libraries)
  get_target_property(type ${target} TYPE)
  if(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY)$" AND NOT target STREQUAL "mirtune_pretrain")
    target_link_libraries(mirtune_library INTERFACE ${target})
  endif()
endforeach()
add_library(mirtune::mirtune ALIAS mirtune_library)

install(TARGETS ${mirtune_exported_libraries} mirtune_library EXPORT mirtuneTargets
        ARCHIVE DESTINATION lib
        LIBRARY DESTINATION lib
        INCLUDES DESTINATION ${MIRTUNE_INSTALL_INCLUDEDIR})

# The executables keep the link-time search path of the shared libraries they use (LibTorch, LLVM) when installed.
set_target_properties(mirtune mirtune-run mirtune-pretrain PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS mirtune mirtune-run mirtune-pretrain RUNTIME DESTINATION bin)
# Loaded with dlopen by the tokenizer, which looks in <folder of the executable>/../lib.
install(TARGETS mirtune_sentencepiece mirtune_mlp LIBRARY DESTINATION lib)

# Headers, with their paths relative to the include root the sources use (src/ for the src/ modules, the project
# root for the others). ClangDriver.h stays private: it exposes Clang's own types and no public header needs it.
foreach(module support frontend ir corpus)
  install(DIRECTORY src/${module} DESTINATION ${MIRTUNE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.h"
          PATTERN "resources" EXCLUDE PATTERN "ClangDriver.h" EXCLUDE)
endforeach()
foreach(module database embeddings tuner tasks)
  install(DIRECTORY ${module} DESTINATION ${MIRTUNE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.h"
          PATTERN "models" EXCLUDE PATTERN "data" EXCLUDE)
endforeach()

# Shipped files the programs read, in the source tree's layout (shareDirectory() in src/support/Files.h).
install(DIRECTORY embeddings/models DESTINATION ${MIRTUNE_INSTALL_SHAREDIR}/embeddings)
install(DIRECTORY kernels DESTINATION ${MIRTUNE_INSTALL_SHAREDIR})
file(GLOB mirtune_task_folders LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/tasks/*")
foreach(folder IN LISTS mirtune_task_folders)
  get_filename_component(task ${folder} NAME)
  foreach(kind models data)
    if(IS_DIRECTORY ${folder}/${kind})
      install(DIRECTORY ${folder}/${kind} DESTINATION ${MIRTUNE_INSTALL_SHAREDIR}/tasks/${task})
    endif()
  endforeach()
endforeach()

# The package: targets, a config that finds the dependencies, and a version file.
install(EXPORT mirtuneTargets NAMESPACE mirtune:: DESTINATION ${MIRTUNE_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mirtuneConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mirtuneConfig.cmake
                              INSTALL_DESTINATION ${MIRTUNE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mirtuneConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mirtuneConfig.cmake ${PROJECT_BINARY_DIR}/mirtuneConfigVersion.cmake
        DESTINATION ${MIRTUNE_INSTALL_CMAKEDIR})

# The test of the installed tree (ctest label "install").
if(MIRTUNE_BUILD_TESTS)
  add_subdirectory(tests/install)
endif()
