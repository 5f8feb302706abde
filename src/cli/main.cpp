// `regain` command-line entry point: one subcommand per file in this folder.
#include <iostream>
#include <set>
#include <string>

#include "cli/common.h"

int main(int argc, char** argv) {
  using namespace regain::cli;
#ifdef REGAIN_HDR_PROCESS_ALIAS
  // `hdr-process --img --ref --boost --out` is `regain process` with the same options.
  std::vector<char*> args(argv, argv + argc);
  static char process_word[] = "process";
  args.insert(args.begin() + 1, process_word);
  argc = int(args.size());
  argv = args.data();
#endif
  CLI::App app{"regain: put HDR back into photos (gain maps: Ultra HDR JPEG, ISO 21496-1, Apple)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "regain 0.1.0");
  std::vector<std::pair<CLI::App*, Runner>> commands;
  auto add = [&](Runner (*fn)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Runner r = fn(app);
    commands.emplace_back(app.get_subcommands({})[before], r);
  };
  add(add_inspect);
  add(add_extract);
  add(add_decode);
  add(add_encode);
  add(add_repair);
  add(add_bench);
  add(add_samples);
  add(add_process);
  add(add_eval);
  add(add_master);
  add(add_serve);
  add(add_model);
  add(add_train);
  add(add_batch_report);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) {
        // The buffer pool pays off only where the same sizes come round again (see
        // set_pixel_pool_mb); `process` turns it back on for a batch.
        static const std::set<std::string> looping = {"bench", "serve", "eval", "train", "master"};
        if (!looping.count(sub->get_name())) regain::set_pixel_pool_mb(0);
        return run();
      }
  } catch (const std::bad_alloc&) {
    std::cerr << "regain: out of memory\n";
    return kTooLarge;
  } catch (const std::exception& e) {
    std::cerr << "regain: internal error: " << e.what() << "\n";
    return kInternal;
  }
  return kUsage;
}
