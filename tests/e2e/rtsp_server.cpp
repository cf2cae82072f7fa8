// A real RTSP camera on loopback for the camera-path test: gst-rtsp-server
// (Debian's libgstrtspserver) serving a generated Motion-JPEG stream of a
// fixed number of frames at rtsp://127.0.0.1:PORT/camera.
//
//   ecotta-rtsp-test-server PORT FRAMES
// Prints "ready" once listening; runs until killed.
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PORT FRAMES\n", argv[0]);
    return 2;
  }
  const std::string port = argv[1];
  const int frames = std::atoi(argv[2]);
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, port.c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  // Live, 30 fps, a moving ball: what a camera looks like to the pipeline.
  // I420: RTP/JPEG (RFC 2435) carries 4:2:0 or 4:2:2 JPEG only.
  const std::string launch = "( videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(frames) +
                             " ! video/x-raw,format=I420,width=320,height=240,framerate=30/1"
                             " ! jpegenc quality=85"
                             " ! rtpjpegpay name=pay0 pt=26 )";
  gst_rtsp_media_factory_set_launch(factory, launch.c_str());
  gst_rtsp_media_factory_set_shared(factory, FALSE);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/camera", factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "could not listen on 127.0.0.1:%s\n", port.c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}
