/* render_map — the movement map drawn from the JSON document's "map" (movement_map.h, docs/formats.md): each token's
 * static vector as a dark point labelled with its word, an arrow to its vector in context (coloured per sentence),
 * the nearest words of both lists as faint labelled dots, the explained variance of the two PCA axes printed on
 * the picture, and below it the tokens drawn without an arrow and why. Labels are placed by map_place_labels.
 *
 * Presentation only: a point's circle is at (ox + scale·x, oy − scale·y) of its JSON coordinates, with ox, oy and
 * scale written on the plot's <g class="mm-plot" data-ox data-oy data-scale> and each point's JSON coordinates
 * verbatim in its data-x, data-y (the browser tier checks them); an arrow runs from its static point's centre to
 * its contextual point's. Every point has a <title> (works without scripts) and is focusable (tabindex 0).
 */
#ifndef RENDER_MAP_H
#define RENDER_MAP_H

#include <cJSON.h>
#include <stdio.h>

#include "ev_error.h"

/* The standalone SVG of the map of a view document (compare 0) or a compare document (1), each with "map".
 * Returns EV_OK or EV_ERR_FORMAT (no valid "map": err set), EV_ERR_NOMEM; on failure nothing is written. */
ev_status render_svg_map(FILE *fp, const cJSON *doc, int compare, ev_error *err);

/* The HTML page's map section (<section class="card map-sec" id="mm">, inline SVG whose colours come from the
 * page's CSS). Writes nothing when doc has no "map". Returns as render_svg_map. */
ev_status render_map_section(FILE *fp, const cJSON *doc, int compare, ev_error *err);

#endif
