# Sourced by load-test.sh and cluster-load.sh (with BUILD, BIN and WORK set): builds the load
# client (scripts/load-client.cpp against Debian's cpp-httplib) when missing or stale, and
# makes the 1024x768 test photo. Sets CLIENT and IMG.
CLIENT="$BUILD/load-client"
if [ ! -x "$CLIENT" ] || [ scripts/load-client.cpp -nt "$CLIENT" ]; then
  g++ -std=c++20 -O2 -o "$CLIENT" scripts/load-client.cpp $(pkg-config --cflags --libs cpp-httplib) -pthread
fi
"$BIN" samples --out "$WORK/samples" --width 1024 --height 768 >/dev/null
IMG="$WORK/samples/sunset_sdr.jpg"
