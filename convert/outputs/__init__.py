"""What nianbao writes: the standard workbook, the summary workbook and annotated copies.

layout (where each cell goes), template (look and texts from workbook_templates/layout.toml),
xlsxfast (xlsxwriter fast paths, atomic writing), standard, summary, annotate.
"""
