/* index_catalog.c - the spectral index catalog: formulas over standard band
 * symbols and named constants with their usual defaults, with references.
 * Symbols and constant names follow the Awesome Spectral Indices
 * convention (Montero et al. 2023, Scientific Data 10:197), where g is the
 * gain and G the green band. */
#include "analytics_int.h"

#include <math.h>
#include <string.h>
#include <strings.h>

const eoi_band_sym eoi_band_syms[EOI_NSYM] = {
    {"A", "coastal", "coastal aerosol (~0.44 um)"},
    {"B", "blue", "blue (~0.49 um)"},
    {"G", "green", "green (~0.56 um)"},
    {"R", "red", "red (~0.66 um)"},
    {"RE1", "rededge1", "red edge 1 (~0.70 um)"},
    {"RE2", "rededge2", "red edge 2 (~0.74 um)"},
    {"RE3", "rededge3", "red edge 3 (~0.78 um)"},
    {"N", "nir", "near infrared (~0.84 um)"},
    {"N2", "nir2", "narrow near infrared (~0.865 um)"},
    {"WV", "watervapour", "water vapour (~0.945 um)"},
    {"S1", "swir1", "short-wave infrared 1 (~1.6 um)"},
    {"S2", "swir2", "short-wave infrared 2 (~2.2 um)"},
    {"T", "thermal", "thermal infrared (~11 um)"},
    {"T1", "thermal1", "thermal infrared 1 (~10.9 um)"},
    {"T2", "thermal2", "thermal infrared 2 (~12 um)"},
};

int eoi_band_sym_find(const char *ident, size_t len) {
    for (int i = 0; i < EOI_NSYM; i++)
        if (strlen(eoi_band_syms[i].sym) == len && strncmp(ident, eoi_band_syms[i].sym, len) == 0)
            return i;
    for (int i = 0; i < EOI_NSYM; i++)
        if (strlen(eoi_band_syms[i].name) == len &&
            strncasecmp(ident, eoi_band_syms[i].name, len) == 0)
            return i;
    return -1;
}

static const eoi_index_def catalog[] = {
    {"NDVI", "Normalized Difference Vegetation Index", "(N - R) / (N + R)", "",
     "Rouse et al. 1974, NASA SP-351"},
    {"GNDVI", "Green Normalized Difference Vegetation Index", "(N - G) / (N + G)", "",
     "Gitelson et al. 1996, Remote Sens. Environ. 58:289"},
    {"NDWI", "Normalized Difference Water Index", "(G - N) / (G + N)", "",
     "McFeeters 1996, Int. J. Remote Sens. 17:1425"},
    {"MNDWI", "Modified Normalized Difference Water Index", "(G - S1) / (G + S1)", "",
     "Xu 2006, Int. J. Remote Sens. 27:3025"},
    {"NDBI", "Normalized Difference Built-up Index", "(S1 - N) / (S1 + N)", "",
     "Zha et al. 2003, Int. J. Remote Sens. 24:583"},
    {"NDMI", "Normalized Difference Moisture Index", "(N - S1) / (N + S1)", "",
     "Gao 1996, Remote Sens. Environ. 58:257"},
    {"NBR", "Normalized Burn Ratio", "(N - S2) / (N + S2)", "",
     "Key & Benson 2006, USDA RMRS-GTR-164-CD"},
    {"NBR2", "Normalized Burn Ratio 2", "(S1 - S2) / (S1 + S2)", "",
     "USGS Landsat Surface Reflectance-derived Spectral Indices Product Guide, 2017"},
    {"EVI", "Enhanced Vegetation Index", "g * (N - R) / (N + C1 * R - C2 * B + L)",
     "g=2.5,C1=6,C2=7.5,L=1", "Huete et al. 2002, Remote Sens. Environ. 83:195"},
    {"EVI2", "Two-band Enhanced Vegetation Index", "g * (N - R) / (N + 2.4 * R + L)", "g=2.5,L=1",
     "Jiang et al. 2008, Remote Sens. Environ. 112:3833"},
    {"SAVI", "Soil-Adjusted Vegetation Index", "(1 + L) * (N - R) / (N + R + L)", "L=0.5",
     "Huete 1988, Remote Sens. Environ. 25:295"},
    {"MSAVI", "Modified Soil-Adjusted Vegetation Index",
     "0.5 * (2 * N + 1 - sqrt((2 * N + 1) ^ 2 - 8 * (N - R)))", "",
     "Qi et al. 1994, Remote Sens. Environ. 48:119"},
    {"OSAVI", "Optimized Soil-Adjusted Vegetation Index", "(N - R) / (N + R + 0.16)", "",
     "Rondeaux et al. 1996, Remote Sens. Environ. 55:95"},
    {"NDRE", "Normalized Difference Red Edge", "(N - RE1) / (N + RE1)", "",
     "Gitelson & Merzlyak 1994, J. Plant Physiol. 143:286"},
    {"CIre", "Chlorophyll Index Red Edge", "N / RE1 - 1", "",
     "Gitelson et al. 2003, J. Plant Physiol. 160:271"},
    {"CIg", "Chlorophyll Index Green", "N / G - 1", "",
     "Gitelson et al. 2003, J. Plant Physiol. 160:271"},
    {"ARVI", "Atmospherically Resistant Vegetation Index",
     "(N - (R - gamma * (B - R))) / (N + (R - gamma * (B - R)))", "gamma=1",
     "Kaufman & Tanre 1992, IEEE Trans. Geosci. Remote Sens. 30:261"},
    {"VARI", "Visible Atmospherically Resistant Index", "(G - R) / (G + R - B)", "",
     "Gitelson et al. 2002, Remote Sens. Environ. 80:76"},
    {"GLI", "Green Leaf Index", "(2 * G - R - B) / (2 * G + R + B)", "",
     "Louhaichi et al. 2001, Geocarto Int. 16:65"},
    {"ExG", "Excess Green Index", "2 * G - R - B", "", "Woebbecke et al. 1995, Trans. ASAE 38:259"},
    {"NGRDI", "Normalized Green Red Difference Index", "(G - R) / (G + R)", "",
     "Tucker 1979, Remote Sens. Environ. 8:127"},
    {"NDSI", "Normalized Difference Snow Index", "(G - S1) / (G + S1)", "",
     "Hall et al. 1995, Remote Sens. Environ. 54:127"},
    {"BSI", "Bare Soil Index", "((S1 + R) - (N + B)) / ((S1 + R) + (N + B))", "",
     "Rikimaru et al. 2002, Tropical Ecology 43:39"},
    {"SR", "Simple Ratio", "N / R", "", "Jordan 1969, Ecology 50:663"},
    {"DVI", "Difference Vegetation Index", "N - R", "",
     "Richardson & Wiegand 1977, Photogramm. Eng. Remote Sens. 43:1541"},
    {"RDVI", "Renormalized Difference Vegetation Index", "(N - R) / sqrt(N + R)", "",
     "Roujean & Breon 1995, Remote Sens. Environ. 51:375"},
    {"MSR", "Modified Simple Ratio", "(N / R - 1) / sqrt(N / R + 1)", "",
     "Chen 1996, Can. J. Remote Sens. 22:229"},
    {"WDRVI", "Wide Dynamic Range Vegetation Index", "(alpha * N - R) / (alpha * N + R)",
     "alpha=0.1", "Gitelson 2004, J. Plant Physiol. 161:165"},
    {"GEMI", "Global Environment Monitoring Index",
     "((2 * (N ^ 2 - R ^ 2) + 1.5 * N + 0.5 * R) / (N + R + 0.5)) * "
     "(1 - 0.25 * ((2 * (N ^ 2 - R ^ 2) + 1.5 * N + 0.5 * R) / (N + R + 0.5))) - "
     "(R - 0.125) / (1 - R)",
     "", "Pinty & Verstraete 1992, Vegetatio 101:15"},
    {"AWEInsh", "Automated Water Extraction Index (no shadows)",
     "4 * (G - S1) - (0.25 * N + 2.75 * S2)", "",
     "Feyisa et al. 2014, Remote Sens. Environ. 140:23"},
    {"AWEIsh", "Automated Water Extraction Index (shadows)",
     "B + 2.5 * G - 1.5 * (N + S1) - 0.25 * S2", "",
     "Feyisa et al. 2014, Remote Sens. Environ. 140:23"},
    {"WRI", "Water Ratio Index", "(G + R) / (N + S1)", "",
     "Shen & Li 2010, Proc. 18th Int. Conf. Geoinformatics"},
    {"NDTI", "Normalized Difference Turbidity Index", "(R - G) / (R + G)", "",
     "Lacaux et al. 2007, Remote Sens. Environ. 106:66"},
    {"UI", "Urban Index", "(S2 - N) / (S2 + N)", "",
     "Kawamura et al. 1996, Int. Arch. Photogramm. Remote Sens. 31:321"},
    {"NMDI", "Normalized Multi-band Drought Index", "(N - (S1 - S2)) / (N + (S1 - S2))", "",
     "Wang & Qu 2007, Geophys. Res. Lett. 34:L20405"},
    {"MSI", "Moisture Stress Index", "S1 / N", "", "Hunt & Rock 1989, Remote Sens. Environ. 30:43"},
    {"MCARI", "Modified Chlorophyll Absorption in Reflectance Index",
     "((RE1 - R) - 0.2 * (RE1 - G)) * (RE1 / R)", "",
     "Daughtry et al. 2000, Remote Sens. Environ. 74:229"},
    {"TCARI", "Transformed Chlorophyll Absorption in Reflectance Index",
     "3 * ((RE1 - R) - 0.2 * (RE1 - G) * (RE1 / R))", "",
     "Haboudane et al. 2002, Remote Sens. Environ. 81:416"},
    {"MTCI", "MERIS Terrestrial Chlorophyll Index", "(RE2 - RE1) / (RE1 - R)", "",
     "Dash & Curran 2004, Int. J. Remote Sens. 25:5403"},
    {"IRECI", "Inverted Red-Edge Chlorophyll Index", "(RE3 - R) / (RE1 / RE2)", "",
     "Frampton et al. 2013, ISPRS J. Photogramm. Remote Sens. 82:83"},
    {"S2REP", "Sentinel-2 Red-Edge Position", "705 + 35 * ((R + RE3) / 2 - RE1) / (RE2 - RE1)", "",
     "Frampton et al. 2013, ISPRS J. Photogramm. Remote Sens. 82:83"},
    {"NDCI", "Normalized Difference Chlorophyll Index", "(RE1 - R) / (RE1 + R)", "",
     "Mishra & Mishra 2012, Remote Sens. Environ. 117:394"},
    {"SIPI", "Structure Insensitive Pigment Index", "(N - B) / (N - R)", "",
     "Penuelas et al. 1995, Photosynthetica 31:221"},
    {"PSRI", "Plant Senescing Reflectance Index", "(R - B) / RE2", "",
     "Merzlyak et al. 1999, Physiol. Plant. 106:135"},
    {"GCC", "Green Chromatic Coordinate", "G / (R + G + B)", "",
     "Gillespie et al. 1987, Remote Sens. Environ. 22:343"},
    {"RGRI", "Red Green Ratio Index", "R / G", "", "Gamon & Surfus 1999, New Phytol. 143:105"},
    {"TGI", "Triangular Greenness Index", "-0.5 * (190 * (R - G) - 120 * (R - B))", "",
     "Hunt et al. 2011, Agron. J. 103:1090"},
    {"BAI", "Burned Area Index", "1 / ((0.1 - R) ^ 2 + (0.06 - N) ^ 2)", "",
     "Chuvieco et al. 2002, Int. J. Remote Sens. 23:5103"},
    {"MIRBI", "Mid-Infrared Burn Index", "10 * S2 - 9.8 * S1 + 2", "",
     "Trigg & Flasse 2001, Int. J. Remote Sens. 22:2641"},
    {"NDBaI", "Normalized Difference Bareness Index", "(S1 - T) / (S1 + T)", "",
     "Zhao & Chen 2005, Proc. IGARSS 2005"},
    {"CVI", "Chlorophyll Vegetation Index", "N * R / G ^ 2", "",
     "Vincini et al. 2008, Precision Agric. 9:303"},
};

/* Defaults of the named constants when an expression uses them outside an
 * index that sets its own. */
static const struct {
    const char *name;
    double value;
} constants[] = {
    {"L", 0.5}, {"g", 2.5}, {"C1", 6.0}, {"C2", 7.5}, {"gamma", 1.0}, {"alpha", 0.1},
};

const eoi_index_def *eoi_index_find(const char *name) {
    for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
        if (strcasecmp(catalog[i].name, name) == 0)
            return &catalog[i];
    return NULL;
}

size_t eoi_index_count(void) { return sizeof catalog / sizeof catalog[0]; }

const eoi_index_def *eoi_index_at(size_t i) { return i < eoi_index_count() ? &catalog[i] : NULL; }

double eoi_constant_default(const char *name) {
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (strcmp(constants[i].name, name) == 0)
            return constants[i].value;
    return NAN;
}
