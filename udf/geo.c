/*
** geo.c - an example extension with one scalar function:
**
**   haversine(lat1, lon1, lat2, lon2)  the great-circle distance in
**                                      kilometres between two points given
**                                      in degrees (a sphere of radius 6371 km)
**
** A NULL argument gives NULL; a latitude outside [-90, 90] or a longitude
** outside [-180, 180] fails the record (it is rejected and counted, the
** query goes on).  Build: cc -shared -fPIC $(pkg-config --cflags sluice)
** -o libgeo.so geo.c -lm; then LOAD 'libgeo.so'.
*/
#define SLUICE_EXTENSION
#include <math.h>
#include <sluice.h>

#define EARTH_RADIUS_KM 6371.0
#define RAD (3.14159265358979323846 / 180.0)

/* The distance between (lat1, lon1) and (lat2, lon2), in degrees. */
static double distance_km(double lat1, double lon1, double lat2, double lon2) {
  double dlat = (lat2 - lat1) * RAD, dlon = (lon2 - lon1) * RAD;
  double h = sin(dlat / 2) * sin(dlat / 2) +
             cos(lat1 * RAD) * cos(lat2 * RAD) * sin(dlon / 2) * sin(dlon / 2);
  return 2 * EARTH_RADIUS_KM * asin(sqrt(h < 1 ? h : 1));
}

static void haversine(sluice_context *ctx, int argc, sluice_value **argv) {
  double x[4];
  for (int i = 0; i < argc; i++) {
    if (sluice_value_type(argv[i]) == SLUICE_NULL) return; /* no result: NULL */
    x[i] = sluice_value_double(argv[i]);
    double limit = i % 2 ? 180 : 90;
    if (!(fabs(x[i]) <= limit)) {
      sluice_result_error(ctx, "haversine(): %s %g is out of range [-%g, %g]",
                          i % 2 ? "longitude" : "latitude", x[i], limit, limit);
      return;
    }
  }
  sluice_result_double(ctx, distance_km(x[0], x[1], x[2], x[3]));
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function haversine_def = {
      .name = "haversine",
      .nargs = 4,
      .flags = SLUICE_DETERMINISTIC,
      .scalar = haversine,
      .doc = "haversine(LAT1, LON1, LAT2, LON2): great-circle distance in km",
  };
  return sluice_create_function(ext, &haversine_def);
}
