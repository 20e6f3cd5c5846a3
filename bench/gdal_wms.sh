# shellcheck shell=bash
# bench/gdal_wms.sh - sourced by the benchmarks: GDAL's way into a local
# {z}/{x}/{y}.png folder, a <GDAL_WMS> description of a TMS service whose
# ServerUrl is the folder's file:// template, the EPSG:3857 world at one zoom
# (YOrigin top: XYZ rows), no cache; missing tiles read as zeros.
#
#   gdal_wms_xml FOLDER ZOOM BANDS >OUT.xml
gdal_wms_xml() {
    cat <<EOF
<GDAL_WMS>
  <Service name="TMS"><ServerUrl>file://$1/\${z}/\${x}/\${y}.png</ServerUrl></Service>
  <DataWindow>
    <UpperLeftX>-20037508.342789244</UpperLeftX><UpperLeftY>20037508.342789244</UpperLeftY>
    <LowerRightX>20037508.342789244</LowerRightX><LowerRightY>-20037508.342789244</LowerRightY>
    <TileLevel>$2</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>
    <YOrigin>top</YOrigin>
  </DataWindow>
  <Projection>EPSG:3857</Projection>
  <BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>$3</BandsCount>
  <ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes>
  <ZeroBlockOnServerException>true</ZeroBlockOnServerException>
</GDAL_WMS>
EOF
}
