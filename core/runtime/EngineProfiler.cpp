#include "core/runtime/EngineProfiler.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace {

// Round-trip precision, so that the Python reader of either writer's file gets the same doubles.
std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string perfetto_event(const std::string& pid, const LayerRecord& r, double start_us) {
  std::ostringstream out;
  out << "  {\n    \"name\": " << quoted(r.name) << ",\n    \"ph\": \"X\",\n    \"ts\": " << number(start_us)
      << ",\n    \"dur\": " << number(r.milliseconds * 1000.0) << ",\n    \"tid\": 1,\n    \"pid\": " << quoted(pid)
      << ",\n    \"args\": {\n      \"runs\": " << r.runs << "\n    }\n  }";
  return out.str();
}

std::string trex_entry(const LayerRecord& r, double total_ms) {
  const double average = r.runs > 0 ? r.milliseconds / static_cast<double>(r.runs) : 0.0;
  const double percentage = total_ms > 0 ? r.milliseconds * 100.0 / total_ms : 0.0;
  std::ostringstream out;
  out << "  {\n    \"name\": " << quoted(r.name) << ",\n    \"timeMs\": " << number(r.milliseconds)
      << ",\n    \"averageMs\": " << number(average) << ",\n    \"percentage\": " << number(percentage) << "\n  }";
  return out.str();
}

} // namespace

void LayerTimes::report_layer_time(const std::string& layer_name, float milliseconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& record : records_) {
    if (record.name == layer_name) {
      record.milliseconds += static_cast<double>(milliseconds);
      ++record.runs;
      return;
    }
  }
  records_.push_back(LayerRecord{layer_name, static_cast<double>(milliseconds), 1});
}

std::vector<LayerRecord> LayerTimes::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

void check_profile_format(const std::string& format) {
  if (format != "perfetto" && format != "trex" && format != "cudagraph") {
    throw std::invalid_argument(
        "profile_format must be one of ('perfetto', 'trex', 'cudagraph'), got '" + format + "'");
  }
}

std::string trace_json(const std::string& engine_name, const std::string& format, const std::vector<LayerRecord>& records) {
  check_profile_format(format);
  double total_ms = 0.0;
  for (const auto& r : records) {
    total_ms += r.milliseconds;
  }
  std::string out = "[";
  double start_us = 0.0;
  for (size_t i = 0; i < records.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    if (format == "trex") {
      out += trex_entry(records[i], total_ms);
    } else {
      out += perfetto_event(engine_name + " Engine Execution", records[i], start_us);
      start_us += records[i].milliseconds * 1000.0;
    }
  }
  return out + (records.empty() ? "]\n" : "\n]\n");
}

void write_text_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  static std::atomic<uint64_t> counter{0};
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
  }
  const fs::path tmp = target.parent_path() / (".profile-" + target.filename().string() + "." + std::to_string(++counter));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      throw std::runtime_error("could not write the engine profile " + path + ": " + std::strerror(errno));
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("could not write the engine profile " + path + ": " + ec.message());
  }
}

EngineProfiler::EngineProfiler() {
  std::error_code ec;
  prefix_ = std::filesystem::temp_directory_path(ec).string();
  if (ec) {
    prefix_ = "/tmp";
  }
}

void EngineProfiler::enable() {
  times_ = std::make_shared<LayerTimes>();
}

void EngineProfiler::disable() {
  times_.reset();
}

void EngineProfiler::set_format(const std::string& format) {
  check_profile_format(format);
  format_ = format;
}

std::string EngineProfiler::trace_path(const std::string& engine_name) const {
  return (std::filesystem::path(prefix_) / (engine_name + "_engine_execution_profile.trace")).string();
}

std::vector<LayerRecord> EngineProfiler::records() const {
  return times_ ? times_->records() : std::vector<LayerRecord>{};
}

bool EngineProfiler::attach(BackendExecutionContext& ctx) {
  return !times_ || ctx.set_profiler(times_.get());
}

void EngineProfiler::after_run(const std::string& engine_name) {
  if (times_) {
    const std::string layout = format_ == "cudagraph" ? "perfetto" : format_;
    write_text_atomically(trace_path(engine_name), trace_json(engine_name, layout, times_->records()));
  }
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
