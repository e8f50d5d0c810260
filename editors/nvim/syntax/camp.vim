" Vim syntax file for camp (declarative CRM campaigns).
" The names of keywords follow grammar/src/camp.pest.
if exists('b:current_syntax')
  finish
endif

syn keyword campItem schema policy segment message campaign
syn keyword campSchema customer table events event from key props type time as ref enum max
syn keyword campSetting kind channel fallback after trigger audience exit when wait until send via if else
syn keyword campSetting quiet hours window cap per priority variant holdout goal for unless defer skip
syn keyword campSetting timezone sender optout lifecycle subject title image template button
syn keyword campTrigger on at every day weekday monday tuesday wednesday thursday friday saturday sunday of month
syn keyword campOperator and or not in is null contains
syn keyword campCondition did where at least most exactly times within since last first before days
syn keyword campFunction count sum avg min max rfm lifecycle interval
syn keyword campConstant true false now ad info
syn keyword campType id text int decimal money bool timestamp date phone email consent tz

syn match campNumber "\<\d[0-9_]*\(\.\d\+\)\?\([mhdw]\|%\|st\|nd\|rd\|th\)\?\>"
syn match campTime "\<\d\{1,2}:\d\d\>"
syn match campDate "\<\d\{4}-\d\d-\d\d\>"

syn region campPlaceholder matchgroup=campPlaceholderDelim start="#{" end="}" contained contains=campPlaceholderString,campPipe oneline
syn region campPlaceholderString start=+"+ skip=+\\"+ end=+"+ contained oneline
syn match campPipe "|\|??" contained
syn match campEscape +\\[\\"nt#]+ contained
syn region campString start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=campPlaceholder,campEscape,campAdPrefix
syn match campAdPrefix "(광고)" contained

syn match campDocComment "///.*$" contains=@Spell
syn match campComment "//\([^/].*\)\?$" contains=@Spell

hi def link campItem Structure
hi def link campSchema Keyword
hi def link campSetting Keyword
hi def link campTrigger Keyword
hi def link campOperator Operator
hi def link campCondition Conditional
hi def link campFunction Function
hi def link campConstant Constant
hi def link campType Type
hi def link campNumber Number
hi def link campTime Number
hi def link campDate Number
hi def link campString String
hi def link campEscape SpecialChar
hi def link campPlaceholder Identifier
hi def link campPlaceholderDelim Special
hi def link campPlaceholderString String
hi def link campPipe Operator
hi def link campAdPrefix Todo
hi def link campComment Comment
hi def link campDocComment SpecialComment

let b:current_syntax = 'camp'
