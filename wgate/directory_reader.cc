#include "wgate/directory_reader.h"

#include <memory>

namespace its::wgate {
namespace {

// Lives on the loop thread from Start() until End() deletes it.
class DirectoryReader final {
 public:
  DirectoryReader(GrpcSide& grpc, proto::MappingManager::Stub* stub,
                  std::function<void(proto::Directory&)> on_directory,
                  std::function<void()> on_end)
      : grpc_(grpc),
        stub_(stub),
        on_directory_(std::move(on_directory)),
        on_end_(std::move(on_end)) {}

  void Start() {
    GrpcLoop& loop = grpc_.loop();
    if (loop.stopping()) return End();
    loop.AddClientCall(&context_);
    reader_ =
        stub_->PrepareAsyncWatchDirectory(&context_, proto::Empty(), loop.cq());
    ++ops_;
    reader_->StartCall(&start_tag_);
  }

 private:
  void OnStart(bool ok) {
    --ops_;
    ok ? Read() : Finish();
  }
  void OnRead(bool ok) {
    --ops_;
    if (!ok) return Finish();
    auto d = std::make_shared<proto::Directory>();
    d->Swap(&directory_);
    grpc_.OnAsio([fn = on_directory_, d] { fn(*d); });
    Read();
  }
  void OnFinish(bool) {
    --ops_;
    End();
  }
  void Read() {
    if (grpc_.loop().stopping()) return End();
    ++ops_;
    reader_->Read(&directory_, &read_tag_);
  }
  void Finish() {
    if (grpc_.loop().stopping()) return End();
    ++ops_;
    reader_->Finish(&status_, &finish_tag_);
  }
  void End() {
    if (ops_ > 0) return;
    if (reader_) grpc_.loop().RemoveClientCall(&context_);
    grpc_.OnAsio(std::move(on_end_));
    delete this;
  }

  GrpcSide& grpc_;
  proto::MappingManager::Stub* stub_;
  std::function<void(proto::Directory&)> on_directory_;
  std::function<void()> on_end_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReader<proto::Directory>> reader_;
  proto::Directory directory_;
  grpc::Status status_;
  int ops_ = 0;
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnStart> start_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnRead> read_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryReader, &DirectoryReader::OnFinish> finish_tag_{
      this};
};

}  // namespace

void WatchDirectory(GrpcSide& grpc, proto::MappingManager::Stub* stub,
                    std::function<void(proto::Directory&)> on_directory,
                    std::function<void()> on_end) {
  auto* reader = new DirectoryReader(grpc, stub, std::move(on_directory),
                                     std::move(on_end));
  grpc.OnLoop([reader] { reader->Start(); });
}

}  // namespace its::wgate
